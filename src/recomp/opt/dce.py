"""Dead-code elimination: ops whose results nobody uses, and blocks no branch reaches.

Pure ops (see ``OpSpec.pure``) have no effect besides their result, so deleting an unused one
cannot change behaviour.  A load has one more effect where a device answers it, so an unused
load goes only when its address range provably holds no device.  A block unreachable from the
region's entry never runs.
"""

from __future__ import annotations

from recomp.ir.core import Op, Region
from recomp.opt.context import Context
from recomp.opt.ranges import overlaps, touched


def _removable(op: Op, defs: dict[int, Op], context: Context) -> bool:
    if op.spec.pure:
        return True
    if op.name == "fetch":  # memory, never a device: unused, it changes nothing
        return True
    return op.name == "load" and not overlaps(touched(defs, op, context.memory_size), context.devices)


def dce(region: Region, context: Context) -> dict[str, int]:
    removed = 0
    for block in region.blocks:
        defs = {op.result.id: op for op in block.ops if op.result is not None}
        used: set[int] = set()
        kept = []
        for op in reversed(block.ops):
            if op.result is not None and op.result.id not in used and _removable(op, defs, context):
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
