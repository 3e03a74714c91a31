"""How a machine's code is translated and run: the options of ``recomp.Emulator``."""

from __future__ import annotations

from recomp.frontends.region import REGION_INSTRUCTIONS

ENGINES = ("jit", "interp")


class Options:
    """``engine``: "jit" (LLVM, tiered) or "interp" (the reference engine only); ``optimize``: run
    the icode optimizer; ``passes``: these optimizer passes, in this order (None: the pipeline);
    ``region_instructions``: guest instructions per region at most; ``jit_threshold``:
    Python-tier entries before compiling (None: the frontend's preference, else the runtime's
    default; 0: compile every region at once); ``native_interpreter``: cold code on the native
    interpreter, where the guest has one; ``background``: hot code compiled on a thread of its
    own while the run goes on; ``baseline``: ... and meanwhile run as stencils stitched at once
    (recomp.runtime.baseline).  One per machine, not changed once made (a plain class: see
    ``recomp.ir.core``)."""

    def __init__(self, engine: str = "jit", optimize: bool = True, passes: tuple[str, ...] | None = None,
                 region_instructions: int = REGION_INSTRUCTIONS, jit_threshold: int | None = None,
                 native_interpreter: bool = True, background: bool = True, baseline: bool = True) -> None:
        self.engine = engine
        self.optimize = optimize
        self.passes = passes
        self.region_instructions = region_instructions
        self.jit_threshold = jit_threshold
        self.native_interpreter = native_interpreter
        self.background = background
        self.baseline = baseline
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r} (choose from {', '.join(ENGINES)})")
        if self.passes is not None:
            from recomp.opt import check_passes  # (the optimizer loads where code is lifted)

            check_passes(self.passes)
        for name, value in (("region_instructions", self.region_instructions), ("jit_threshold", self.jit_threshold)):
            lowest = 1 if name == "region_instructions" else 0
            if value is not None and not (isinstance(value, int) and value >= lowest):
                raise ValueError(f"{name} is a whole number from {lowest} up, not {value!r}")

    def __repr__(self) -> str:
        return f"Options({', '.join(f'{name}={value!r}' for name, value in vars(self).items())})"
