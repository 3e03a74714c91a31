"""Guest-state forwarding: a read of a register or flag takes the value it is known to hold.

In a block, that is the value last written or read: state cannot change in between, since only
a helper declared with ``state=True`` can change it behind icode's back, and calling one ends
what is known.  Across blocks only constants can travel (values are block-local): a forward
dataflow over the region's control-flow graph finds the registers and flags that hold the same
constant on every path into a block, and reads of them become that constant.  The entry block
is also entered from outside the region, where only what the translation is specialized on is
known (``Context.entry``).  Writes are left alone: the ``liveness`` pass decides which are dead.
"""

from __future__ import annotations

from collections import Counter

from recomp.ir.core import Block, Region, Value
from recomp.opt.context import Context
from recomp.opt.rewrite import substitute


def _constants_out(block: Block, known: dict[str, int], context: Context) -> dict[str, int]:
    """The constant registers and flags after the block, given those before it."""
    known = dict(known)
    consts = {op.result.id: op.args[0] for op in block.ops if op.name == "const"}
    for op in block.ops:
        if op.spec.access == "write":
            value = consts.get(op.args[1].id)
            if value is None:
                known.pop(op.args[0], None)
            else:
                known[op.args[0]] = value
        elif context.touches_state(op):
            known.clear()
    return known


def constants_in(region: Region, context: Context) -> dict[str, dict[str, int]]:
    """Per block label: the registers and flags holding one constant on every path into it."""
    entry = region.blocks[0].label
    known: dict[str, dict[str, int] | None] = {b.label: None for b in region.blocks}  # None: unreached
    known[entry] = dict(context.entry)
    changed = True
    while changed:
        changed = False
        for block in region.blocks:
            before = known[block.label]
            if before is None:
                continue
            after = _constants_out(block, before, context)
            for label in block.successors():
                old = known[label]
                new = after if old is None else {k: v for k, v in old.items() if after.get(k) == v}
                if new != old:
                    known[label] = new
                    changed = True
    return {label: facts or {} for label, facts in known.items()}


def _forward_block(block: Block, constants: dict[str, int], context: Context, counts: Counter) -> None:
    known: dict[str, Value] = {}  # field -> the value it holds now
    replaced: dict[int, Value] = {}
    kept = []
    for op in block.ops:
        substitute(op, replaced)
        if op.spec.access == "read":
            name = op.args[0]
            if name in known:
                replaced[op.result.id] = known[name]
                counts["reads"] += 1
                continue
            if name in constants:
                op.name, op.args = "const", [constants[name]]
                counts["constants"] += 1
            known[name] = op.result
        elif op.spec.access == "write":
            known[op.args[0]] = op.args[1]
        elif context.touches_state(op):
            known.clear()
            constants = {}
        kept.append(op)
    block.ops = kept


def forward(region: Region, context: Context) -> dict[str, int]:
    counts: Counter = Counter()
    facts = constants_in(region, context)
    for block in region.blocks:
        _forward_block(block, facts[block.label], context, counts)
    return {"reads": counts["reads"], "constants": counts["constants"]}
