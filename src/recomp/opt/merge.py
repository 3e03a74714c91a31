"""Block merging: fewer, longer blocks, so that the block-local passes (forwarding, folding,
common subexpressions, load/store pairs, liveness's deferral) see more at once.

- A conditional branch to a block that only leaves the region (``exit A`` or ``trap A``) becomes
  a conditional exit (``exit_if``, ``trap_if``) and a branch to the other target: a test
  program's ``BNE *`` no longer ends a block.
- A block that only the ``br`` of one other block reaches is appended to it.  The guards add up:
  the combined block's guard demands budget for both, and when the budget ends inside, the
  runtime runs the combined block one instruction at a time from its start, stopping exactly.
"""

from __future__ import annotations

from collections import Counter

from recomp.ir.core import Block, Op, Region
from recomp.ir.ops import CONDITIONAL
from recomp.ir.types import I1
from recomp.opt.context import Context
from recomp.opt.rewrite import NewValues


def _leaves_at(block: Block) -> Op | None:
    """The block's only op, if it leaves the region at an immediate address."""
    if len(block.ops) == 1 and block.ops[0].name in CONDITIONAL:
        return block.ops[0]
    return None


def _side_exits(region: Region, blocks: dict[str, Block]) -> int:
    new = NewValues(region)
    converted = 0
    for block in region.blocks:
        term = block.ops[-1]
        if term.name != "cbr":
            continue
        cond, taken, not_taken = term.args
        for target, other, negate in ((taken, not_taken, False), (not_taken, taken, True)):
            leave = _leaves_at(blocks[target])
            if leave is None or target == block.label:
                continue
            ops = block.ops[:-1]
            defs: dict[int, Op] = {}
            if negate:
                cond = new.op(ops, defs, "xor", [cond, new.const(ops, defs, I1, 1)], I1)
            block.ops = [*ops, Op(CONDITIONAL[leave.name], [cond, leave.args[0]]), Op("br", [other])]
            converted += 1
            break
    return converted


def _guard(block: Block) -> Op | None:
    return block.ops[0] if block.ops[0].name == "guard" else None


def merge(region: Region, context: Context) -> dict[str, int]:
    blocks = {b.label: b for b in region.blocks}
    counts: Counter = Counter()
    counts["side_exits"] = _side_exits(region, blocks)
    preds: Counter = Counter({region.blocks[0].label: 1})  # the entry is also entered from outside
    for block in region.blocks:
        preds.update(block.successors())
    merged: set[str] = set()
    for block in region.blocks:
        while block.label not in merged and block.ops[-1].name == "br":
            succ = blocks[block.ops[-1].args[0]]
            if succ is block or preds[succ.label] != 1:
                break
            ops = succ.ops
            guard, succ_guard = _guard(block), _guard(succ)
            if succ_guard is not None:
                ops = ops[1:]
                if guard is None:
                    block.ops.insert(0, succ_guard)
                else:
                    guard.args = [guard.args[0] + succ_guard.args[0], guard.args[1] + succ_guard.args[1]]
            block.ops = block.ops[:-1] + ops
            merged.add(succ.label)
            counts["blocks"] += 1
    region.blocks = [b for b in region.blocks if b.label not in merged]
    return {"side_exits": counts["side_exits"], "blocks": counts["blocks"]}
