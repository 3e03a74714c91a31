"""The icode optimizer: small passes, each a plain function ``pass(region, context) -> counts``
(what it removed or fused), run in one pipeline and followed by the verifier.

The order matters: merged blocks give the block-local passes more to see; forwarding and
folding expose common subexpressions (a pull addresses the stack byte a push wrote) and
load/store pairs; dropping self-modifying-code checks that cannot fire removes
points where state is observed, which lets carry chains fuse and liveness delete more; the
peepholes fuse compare-and-branch and carry chains; DCE removes what became unused.
"""

from __future__ import annotations

from collections.abc import Callable

from recomp.ir.core import Region
from recomp.ir.verify import verify
from recomp.opt.context import Context
from recomp.opt.cse import cse
from recomp.opt.dce import dce
from recomp.opt.fold import fold
from recomp.opt.forward import forward
from recomp.opt.liveness import liveness
from recomp.opt.memory import memory
from recomp.opt.merge import merge
from recomp.opt.peephole import peephole
from recomp.opt.smc import smc

Pass = Callable[[Region, Context], dict[str, int]]

PASSES: dict[str, Pass] = {
    "forward": forward,
    "fold": fold,
    "merge": merge,
    "cse": cse,
    "memory": memory,
    "peephole": peephole,
    "smc": smc,
    "liveness": liveness,
    "dce": dce,
}
PIPELINE: tuple[str, ...] = ("merge", "forward", "fold", "cse", "memory", "forward", "fold", "smc",
                             "peephole", "cse", "liveness", "dce")


class UnknownPass(ValueError):
    pass


def check_passes(names: list[str] | tuple[str, ...]) -> None:
    unknown = [n for n in names if n not in PASSES]
    if unknown:
        raise UnknownPass(f"unknown pass {unknown[0]!r} (choose from {', '.join(PASSES)})")


def optimize(region: Region, context: Context, passes: list[str] | tuple[str, ...] | None = None
             ) -> dict[str, dict[str, int]]:
    """Run the pipeline (or ``passes``, in that order) in place; returns what each pass removed,
    summed over its runs."""
    names = PIPELINE if passes is None else tuple(passes)
    check_passes(names)
    stats: dict[str, dict[str, int]] = {}
    for name in names:
        total = stats.setdefault(name, {})
        for key, n in PASSES[name](region, context).items():
            total[key] = total.get(key, 0) + n
    verify(region, context.guest)
    return stats


__all__ = ["PASSES", "PIPELINE", "Context", "UnknownPass", "check_passes", "optimize"]
