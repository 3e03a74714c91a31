"""Guest-state forwarding inside a block.

A read of a register or flag that was written or read earlier in the same block takes that
value: the state cannot have changed in between, since only a helper declared with
``state=True`` can change state behind icode's back, and calling one ends what is known.  A write
that is overwritten later in the block with no read or such call in between is deleted: nothing
could have observed it.  An op that may leave the region mid-block (``guard``, ``smc``, ``poll``)
observes all state, so no write before it is deleted.
"""

from __future__ import annotations

from collections import Counter

from recomp.ir.core import Block, Op, Region, Value
from recomp.ir.guest import GuestSpec

_READ = {"getreg": "setreg", "getflag": "setflag"}
_WRITE = {"setreg", "setflag"}


def _forward_block(block: Block, guest: GuestSpec | None, counts: Counter) -> None:
    known: dict[str, Value] = {}  # field -> its current value
    pending: dict[str, Op] = {}  # field -> a write nobody has observed yet
    replaced: dict[int, Value] = {}
    dead: set[int] = set()
    for op in block.ops:
        op.args = [replaced.get(a.id, a) if isinstance(a, Value) else a for a in op.args]
        if op.name in _READ:
            name = op.args[0]
            pending.pop(name, None)
            if name in known:
                replaced[op.result.id] = known[name]
                dead.add(id(op))
                counts["reads"] += 1
            else:
                known[name] = op.result
        elif op.name in _WRITE:
            name = op.args[0]
            if name in pending:
                dead.add(id(pending[name]))
                counts["writes"] += 1
            pending[name] = op
            known[name] = op.args[1]
        elif op.name == "call" and (guest is None or guest.helpers[op.args[0]].state):
            known.clear()
            pending.clear()
        elif op.spec.exits:
            pending.clear()
    block.ops = [op for op in block.ops if id(op) not in dead]


def forward(region: Region, guest: GuestSpec | None = None) -> dict[str, int]:
    counts: Counter = Counter()
    for block in region.blocks:
        _forward_block(block, guest, counts)
    return {"reads": counts["reads"], "writes": counts["writes"]}
