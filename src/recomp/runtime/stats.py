"""What a machine's runs cost and did, counted by the parts of the runtime as they work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(eq=False)
class Stats:
    regions: int = 0  # regions translated
    compiled: int = 0  # regions compiled by LLVM (the rest ran on the Python tier only)
    stitched: int = 0  # regions stitched from stencils by the baseline compiler
    blocks: int = 0  # blocks in them
    compile_seconds: float = 0.0  # lifting, optimizing and compiling
    opt_seconds: float = 0.0  # of which in the icode optimizer
    llvm_seconds: float = 0.0  # of which in LLVM (lowering, passes, code generation)
    run_seconds: float = 0.0  # executing, compile time excluded
    invalidations: int = 0  # regions dropped because a store hit their code
    reused: int = 0  # ... and used again, when memory held their bytes again
    interrupts: int = 0  # IRQs and NMIs delivered
    chain_hits: int = 0  # jumps compiled code made straight into other compiled code
    chain_misses: int = 0  # jumps that came back to the run loop
    cache_hits: int = 0  # regions loaded from the persistent code cache
    cache_stores: int = 0  # regions written to it
    cache_seconds: float = 0.0  # looking up and loading cached code
    interpreter_seconds: float = 0.0  # building or loading the native interpreter
    opt: dict[str, dict[str, int]] = field(default_factory=dict)  # per pass: what it removed

    def __post_init__(self) -> None:
        self.log: Callable[[str], None] | None = None  # told of each event below, as it happens

    def event(self, text: str) -> None:
        """A compilation, promotion, invalidation...: told to ``log`` (``recomp run --log regions``)."""
        if self.log is not None:
            self.log(text)



def add_translations(total: Stats, more: Stats) -> None:
    """Add what a pipeline of its own counted translating (on the compile thread) to a machine's stats."""
    for name in ("regions", "compiled", "blocks", "opt_seconds", "llvm_seconds"):
        setattr(total, name, getattr(total, name) + getattr(more, name))
    add_pass_counts(total.opt, more.opt)


def add_pass_counts(total: dict[str, dict[str, int]], counts: dict[str, dict[str, int]]) -> None:
    """Add what the optimizer's passes removed from one region to a running total."""
    for name, removed in counts.items():
        into = total.setdefault(name, {})
        for key, n in removed.items():
            into[key] = into.get(key, 0) + n
