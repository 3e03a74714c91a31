"""Common subexpression elimination: a pure op that repeats an earlier one of the block (same
op, same operands, same type) is replaced by the earlier result.  Pure ops have no effect and
their result depends on their operands only, so computing a value once is the same as
computing it twice; values are block-local, so one table per block suffices.  Operands of
commutative ops are ordered, so ``a + b`` meets ``b + a``.  Reads of registers and flags have no
effect either, but their result depends on the writes before them: ``forward`` handles those.
"""

from __future__ import annotations

from recomp.ir.core import Region, Value
from recomp.opt.context import Context
from recomp.opt.rewrite import substitute


def _key(op) -> tuple:
    args = tuple(("%", a.id) if isinstance(a, Value) else a for a in op.args)
    if op.spec.commutative:
        args = tuple(sorted(args))
    return op.name, op.result.type.bits, args


def cse(region: Region, context: Context) -> dict[str, int]:
    removed = 0
    for block in region.blocks:
        seen: dict[tuple, Value] = {}
        replaced: dict[int, Value] = {}
        kept = []
        for op in block.ops:
            substitute(op, replaced)
            if op.spec.pure and not op.spec.access and op.result is not None:
                key = _key(op)
                if key in seen:
                    replaced[op.result.id] = seen[key]
                    removed += 1
                    continue
                seen[key] = op.result
            kept.append(op)
        block.ops = kept
    return {"ops": removed}
