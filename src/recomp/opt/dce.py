"""Dead-code elimination: pure ops whose results nobody uses, and blocks no branch reaches.

Pure ops (see ``OpSpec.pure``) have no effect besides their result, so deleting an unused one
cannot change behaviour; a block unreachable from the region's entry never runs.
"""

from __future__ import annotations

from recomp.ir.core import Region
from recomp.ir.guest import GuestSpec


def dce(region: Region, guest: GuestSpec | None = None) -> dict[str, int]:
    removed = 0
    for block in region.blocks:
        used: set[int] = set()
        kept = []
        for op in reversed(block.ops):
            if op.spec.pure and op.result is not None and op.result.id not in used:
                removed += 1
                continue
            used.update(v.id for v in op.values())
            kept.append(op)
        block.ops = kept[::-1]
    reachable = {region.blocks[0].label}
    work = [region.blocks[0]]
    while work:
        for label in work.pop().successors():
            if label not in reachable:
                reachable.add(label)
                work.append(region.block(label))
    dead_blocks = [b for b in region.blocks if b.label not in reachable]
    region.blocks = [b for b in region.blocks if b.label in reachable]
    return {"ops": removed, "blocks": len(dead_blocks)}
