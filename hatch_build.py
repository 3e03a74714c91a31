"""The package's build hook: the native interpreters and the baseline compiler's stencils, built
when recomp is installed so that no run waits for LLVM to build them (see
``recomp.runtime.interpreters``).

A wheel gets them in ``recomp/prebuilt``; an editable install, in ``src/recomp/prebuilt`` (where
its code is imported from; not tracked by git).  They are made for this machine's CPU and LLVM:
elsewhere, or if building them fails here, recomp builds them when first needed instead.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class NativeInterpreters(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        source = Path(self.root) / "src"
        if version == "editable":
            folder = source / "recomp" / "prebuilt"
        else:
            self._temporary = Path(tempfile.mkdtemp(prefix="recomp-build-"))
            folder = self._temporary / "prebuilt"
        sys.path.insert(0, str(source))
        try:
            from recomp.runtime.interpreters import build_prebuilt

            shutil.rmtree(folder, ignore_errors=True)
            built = build_prebuilt(folder)
        except Exception as error:  # (an install must not fail for want of a speed-up)
            print(f"recomp: native interpreters and stencils not prebuilt ({error}); they are built when first needed",
                  file=sys.stderr)
            return
        finally:
            sys.path.remove(str(source))
        if version != "editable":
            for name in built:
                build_data["force_include"][str(folder / name)] = f"recomp/prebuilt/{name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        temporary = getattr(self, "_temporary", None)
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
