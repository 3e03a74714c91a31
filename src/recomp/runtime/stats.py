"""What a machine's runs cost and did, counted by the parts of the runtime as they work."""

from __future__ import annotations

from collections.abc import Callable

# what a machine counts, and what each counts (a plain class: see ``recomp.ir.core``)
COUNTERS: dict[str, str] = {
    "regions": "regions translated",
    "compiled": "regions compiled by LLVM (the rest ran on the Python tier only)",
    "stitched": "regions stitched from stencils by the baseline compiler",
    "blocks": "blocks in them",
    "compile_seconds": "lifting, optimizing and compiling",
    "opt_seconds": "of which in the icode optimizer",
    "llvm_seconds": "of which in LLVM (lowering, passes, code generation)",
    "run_seconds": "executing, compile time excluded",
    "invalidations": "regions dropped because a store hit their code",
    "reused": "... and used again, when memory held their bytes again",
    "interrupts": "IRQs and NMIs delivered",
    "chain_hits": "jumps compiled code made straight into other compiled code",
    "chain_misses": "jumps that came back to the run loop",
    "cache_hits": "regions loaded from the persistent code cache",
    "cache_stores": "regions written to it",
    "cache_seconds": "looking up and loading cached code",
    "interpreter_seconds": "building or loading the native interpreter",
}


class Stats:
    """The counters (``COUNTERS``: a count, or seconds), and ``opt``: per optimizer pass, what it
    removed."""

    regions = compiled = stitched = blocks = invalidations = reused = interrupts = 0
    chain_hits = chain_misses = cache_hits = cache_stores = 0
    compile_seconds = opt_seconds = llvm_seconds = run_seconds = cache_seconds = interpreter_seconds = 0.0

    def __init__(self) -> None:
        self.opt: dict[str, dict[str, int]] = {}
        self.log: Callable[[str], None] | None = None  # told of each event below, as it happens

    def counters(self) -> dict[str, float]:
        """Every counter and its value, in ``COUNTERS``'s order."""
        return {name: getattr(self, name) for name in COUNTERS}

    def __repr__(self) -> str:
        return f"Stats({', '.join(f'{name}={value!r}' for name, value in self.counters().items())})"

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
