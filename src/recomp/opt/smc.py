"""Self-modifying-code checks that cannot fire: an instruction's ``smc`` leaves the region when
one of its stores hit translated code, so that no stale code runs (or a watchpoint).  When every
store of the instruction provably misses this region's own code, the code consulted at its exits
and watched bytes (``Context.protected``), nothing stale can run here, and the check is deleted.
So is a ``watched`` check (after loads, while a watchpoint is on reads) where every load of the
instruction provably misses watched bytes.  A store into
other translated code is still recorded (the store itself tells the runtime), and the runtime
drops that code at the next exit, before anything else runs.  Deleting the check also deletes a
point where state had to be exact, which lets ``liveness`` drop more writes.
"""

from __future__ import annotations

from recomp.ir.core import Op, Region
from recomp.opt.context import Context
from recomp.opt.ranges import overlaps, touched


def smc(region: Region, context: Context) -> dict[str, int]:
    for block in region.blocks:
        if block.ops[-1].name == "exit":
            context.successor(block.ops[-1].args[0])  # its code becomes protected
    protected = context.protected()
    if protected is None:
        return {"checks": 0}
    size = context.memory_size
    removed = 0
    for block in region.blocks:
        defs: dict[int, Op] = {}
        may_hit = {"smc": False, "watched": False}  # a store (a load) since the last check may hit
        kept = []
        for op in block.ops:
            if op.name == "store":
                may_hit["smc"] = may_hit["smc"] or overlaps(touched(defs, op, size), protected)
            elif op.name == "load":
                may_hit["watched"] = may_hit["watched"] or overlaps(touched(defs, op, size), context.watched)
            elif op.name in may_hit:
                if not may_hit[op.name]:
                    removed += 1
                    continue
                may_hit[op.name] = False
            if op.result is not None:
                defs[op.result.id] = op
            kept.append(op)
        block.ops = kept
    return {"checks": removed}
