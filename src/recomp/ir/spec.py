"""The tables of ``ir/SPEC.md``, made from the tables in the code: the common state fields
(``recomp.ir.guest``), the exit reasons and the ops (``recomp.ir.ops``).  ``tests/test_ir.py``
fails when the spec's copy drifts; ``python -m recomp.ir.spec`` writes them anew.

In the spec, each generated table stands between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from recomp.ir.guest import COMMON_FIELDS
from recomp.ir.ops import _TABLE, EXIT_MEANING, Exit, OpSpec

SPEC = Path(__file__).resolve().parents[3] / "ir" / "SPEC.md"  # in a source checkout

_NAMED = {"r": "its register", "f": "its flag", "s": "its register or flag"}


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _code(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "-"


def fields_table() -> str:
    return _table(("field", "type", "shared", "meaning"),
                  [(f"`{f.name}`", str(f.type), "yes" if f.shared else "", f.doc) for f in COMMON_FIELDS])


def exits_table() -> str:
    def by(reason: Exit) -> str:
        ops = [s.name for s in _TABLE if s.leaves == reason]
        return _code(ops) if ops else "the native interpreter"

    return _table(("reason", "by", "meaning"),
                  [(f"{reason.name.lower()} ({int(reason)})", by(reason), EXIT_MEANING[reason]) for reason in Exit])


def _kind(spec: OpSpec) -> str:
    return "terminator" if spec.terminator else "pure" if spec.pure else "effect"


def _state(spec: OpSpec, access: str, fields: tuple[str, ...]) -> str:
    named = [_NAMED[spec.operands[0]]] if spec.access == access else []
    if spec.helper:
        named.append("its helper's")
    return ", ".join(named + [f"`{f}`" for f in fields]) or "-"


def ops_table() -> str:
    rows = []
    for spec in _TABLE:
        writes = spec.writes + (("pc",) if spec.leaves is not None else ())
        rows.append((f"`{spec.name}`", " ".join(spec.operands) or "-", spec.result or "-", _kind(spec),
                     _state(spec, "read", spec.reads), _state(spec, "write", writes),
                     spec.leaves.name.lower() if spec.leaves is not None else "-", spec.doc))
    return _table(("op", "operands", "result", "kind", "reads", "writes", "leaves", "meaning"), rows)


TABLES: dict[str, Callable[[], str]] = {"fields": fields_table, "exits": exits_table, "ops": ops_table}


def render(text: str) -> str:
    """The spec's text with every generated table made anew."""
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- begin {name} -->\n)(?:.*?\n)?(<!-- end {name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"the spec has no place for the {name} table (<!-- begin {name} -->)")
        table = make()
        text = pattern.sub(lambda m: m[1] + table + "\n" + m[2], text)  # noqa: B023 (called at once)
    return text


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else SPEC
    path.write_text(render(path.read_text()))


if __name__ == "__main__":
    main(sys.argv[1:])
