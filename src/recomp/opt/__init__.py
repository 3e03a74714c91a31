"""The icode optimizer: small passes, each a plain function ``pass(region, guest) -> counts``
(what it removed), run in one pipeline and followed by the verifier."""

from __future__ import annotations

from collections.abc import Callable

from recomp.ir.core import Region
from recomp.ir.guest import GuestSpec
from recomp.ir.verify import verify
from recomp.opt.dce import dce
from recomp.opt.fold import fold
from recomp.opt.forward import forward

PASSES: dict[str, Callable[[Region, GuestSpec | None], dict[str, int]]] = {
    "forward": forward,
    "fold": fold,
    "dce": dce,
}
PIPELINE: tuple[str, ...] = ("forward", "fold", "dce")


class UnknownPass(ValueError):
    pass


def optimize(region: Region, guest: GuestSpec | None = None,
             passes: list[str] | tuple[str, ...] | None = None) -> dict[str, dict[str, int]]:
    """Run the pipeline (or ``passes``, in that order) in place; returns what each pass removed."""
    names = PIPELINE if passes is None else tuple(passes)
    unknown = [n for n in names if n not in PASSES]
    if unknown:
        raise UnknownPass(f"unknown pass {unknown[0]!r} (choose from {', '.join(PASSES)})")
    stats = {name: PASSES[name](region, guest) for name in names}
    verify(region, guest)
    return stats
