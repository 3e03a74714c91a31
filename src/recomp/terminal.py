"""The rich console every command prints its tables through: fitted to a terminal, and when
the output is piped or redirected as wide as a table needs (never cut to 80 columns), plain."""

from __future__ import annotations

import sys
from typing import Any

PIPED_WIDTH = 400  # columns a table may take when nothing on the other side wraps it


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream is not None and stream.isatty()
    return Console(stderr=stderr, width=None if terminal else PIPED_WIDTH)
