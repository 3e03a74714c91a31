"""How a machine's code is translated and run: the options of ``recomp.Emulator``."""

from __future__ import annotations

from dataclasses import dataclass

from recomp.frontends.region import REGION_INSTRUCTIONS

ENGINES = ("jit", "interp")


@dataclass(frozen=True, eq=False)  # one per machine
class Options:
    engine: str = "jit"  # "jit" (LLVM, tiered) or "interp" (the reference engine only)
    optimize: bool = True  # run the icode optimizer
    passes: tuple[str, ...] | None = None  # these optimizer passes, in this order (None: the pipeline)
    region_instructions: int = REGION_INSTRUCTIONS  # guest instructions per region at most
    jit_threshold: int | None = None  # Python-tier entries before compiling (None: the frontend's
    # preference, else the runtime's default; 0: compile every region at once)
    native_interpreter: bool = True  # cold code on the native interpreter, where the guest has one
    background: bool = True  # hot code compiled on a thread of its own while the run goes on
    baseline: bool = True  # ... and meanwhile run as stencils stitched at once (recomp.runtime.baseline)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r} (choose from {', '.join(ENGINES)})")
        if self.passes is not None:
            from recomp.opt import check_passes  # (the optimizer loads where code is lifted)

            check_passes(self.passes)
        for name, value in (("region_instructions", self.region_instructions), ("jit_threshold", self.jit_threshold)):
            lowest = 1 if name == "region_instructions" else 0
            if value is not None and not (isinstance(value, int) and value >= lowest):
                raise ValueError(f"{name} is a whole number from {lowest} up, not {value!r}")
