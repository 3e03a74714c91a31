"""Dead state elimination: register and flag writes that nothing reads (the N and Z of an
``LDA`` that the next ``LDX`` overwrites) are deleted, or deferred to the paths that leave.

A backward dataflow over the region's control-flow graph, continued across static exits into
the code that follows them (``Context.successor``: lifted and analysed the same way, its own
exits taken as reading everything), says for each register and flag at each block boundary
whether it is *live* (read, or looked at, before it is overwritten) or *dead for the next k
instructions and c cycles* (overwritten within them on every path, nothing looking before).
Exits to unknown code (``RTS``, ``RTI``, ``JMP (ind)``, interrupts) read everything.

Guest state is looked at wherever an op ``observes`` it (``OpSpec.observes``): a mid-block exit
(``smc``, ``poll``), a terminator that leaves for unknown code or stops, a helper declared
``state=True``.  There every register and flag must hold its exact value.  So a write nobody reads
is

- deleted when the block overwrites it before any observing op;
- otherwise turned into ``defer``, which writes the value only on a path that leaves the region
  before the block ends: a mid-block exit, or a ``settle`` that fails.

A deferred value not overwritten by the end of its block is stale when control moves on, for as
long as the horizon of its successors (k instructions, c cycles).  ``settle k, c`` at the block end
writes it if the budgets do not cover that many instructions and cycles, or an interrupt is
pending.  This is why stale values are never seen: the runtime stops only when the instruction
budget runs out, takes interrupts only when they are pending or the cycle budget (the next device
deadline) is reached, and after a guard exit runs the next instructions one at a time up to those
budgets.  Within a horizon the settle checked, none of that can happen; so ``guard`` ops do not
observe, and interrupts are only ever taken where every register and flag is exact.
"""

from __future__ import annotations

from collections import Counter

from recomp.ir.core import Block, Op, Region
from recomp.ir.types import I1
from recomp.opt.context import Context

HORIZON = 64  # instructions a stale value may wait for its overwrite; beyond, it is live

Status = tuple[int, int] | None  # None: live; (k, c): dead for the next k instructions, c cycles

# a write's fate, found by scanning the block backwards
KEEP = "keep"  # read later on: write it
DEFER = "defer"  # needed only where the region may leave before the block ends: defer it
DELETE = "delete"  # overwritten before anything reads or observes it: delete it


def _observes_all(op: Op, context: Context) -> bool:
    """An op in a block's body where guest state may be looked at (or changed) as a whole."""
    return (op.spec.observes and not op.spec.terminator) or context.touches_state(op)


def _join(a: Status, b: Status) -> Status:
    return None if a is None or b is None else (max(a[0], b[0]), max(a[1], b[1]))


class _Flow:
    """The dataflow: ``ins[label][field]`` is each register's and flag's status at a block's
    start; ``out(block)`` at its end.  ``follow_exits``: analyse the code after static exits."""

    def __init__(self, region: Region, context: Context, follow_exits: bool) -> None:
        self.context = context
        self.follow_exits = follow_exits
        self.fields = sorted({op.args[0] for op in region.ops() if op.spec.access})
        self.summaries: dict[int, dict[str, Status]] = {}
        bottom: Status = (0, 0)
        self.ins: dict[str, dict[str, Status]] = {b.label: dict.fromkeys(self.fields, bottom)
                                                  for b in region.blocks}
        effects = {b.label: self._effects(b) for b in region.blocks}
        changed = True
        while changed:
            changed = False
            for block in reversed(region.blocks):
                new = self._transfer(block, effects[block.label])
                if new != self.ins[block.label]:
                    self.ins[block.label] = new
                    changed = True

    def _effects(self, block: Block) -> tuple[dict[str, str], bool]:
        """What comes first in the block for each field: a read or a write; and whether an
        observing op comes before the fields not mentioned earlier."""
        first: dict[str, str] = {}
        for op in block.ops:
            if op.spec.access:
                first.setdefault(op.args[0], op.spec.access)
            elif _observes_all(op, self.context):
                return first, True
        return first, False

    def _transfer(self, block: Block, effects: tuple[dict[str, str], bool]) -> dict[str, Status]:
        first, observed = effects
        out = self.out(block)
        count, cycles = block.budget()
        ins: dict[str, Status] = {}
        for name in self.fields:
            effect = first.get(name)
            status = out[name]
            if effect == "write":
                ins[name] = (count, cycles)
            elif effect == "read" or observed or status is None:
                ins[name] = None
            else:
                k, c = status[0] + count, status[1] + cycles
                ins[name] = (k, c) if k <= HORIZON else None
        return ins

    def out(self, block: Block) -> dict[str, Status]:
        """Each field's status after the block, from its terminator."""
        term = block.ops[-1]
        if term.name in ("br", "cbr"):
            targets = [self.ins[label] for label in block.successors()]
            return {name: _join(targets[0][name], targets[-1][name]) for name in self.fields}
        summary = self.summary(term.args[0]) if term.name == "exit" and self.follow_exits else {}
        return {name: summary.get(name) for name in self.fields}

    def summary(self, addr: int) -> dict[str, Status]:
        """The fields dead on entry to the code at ``addr`` (its own exits read everything)."""
        if addr not in self.summaries:
            region = self.context.successor(addr)
            entry = {}
            if region is not None:
                entry = _Flow(region, self.context, follow_exits=False).ins[region.blocks[0].label]
            self.summaries[addr] = entry
        return self.summaries[addr]


def _rewrite(block: Block, out: dict[str, Status], context: Context, counts: Counter) -> None:
    """Delete or defer the block's dead writes; add the settle its stale values need."""
    fate: dict[str, str | tuple[int, int]] = {n: KEEP if s is None else s for n, s in out.items()}
    dead: set[int] = set()
    for op in reversed(block.ops[:-1]):
        if op.spec.access == "write":
            name = op.args[0]
            now = fate[name]
            if now == DELETE:
                dead.add(id(op))
                counts["deleted"] += 1
            elif now == KEEP:
                _set(op, context)
            elif op.name != "defer":
                op.name = "defer"
                counts["deferred"] += 1
            fate[name] = DELETE
        elif op.spec.access == "read":
            fate[op.args[0]] = KEEP
        elif _observes_all(op, context):
            reads = op.spec.helper  # a helper reads state: nothing it sees may be deferred
            for name, now in fate.items():
                if reads:
                    fate[name] = KEEP
                elif now != KEEP:
                    fate[name] = DEFER
    block.ops = [op for op in block.ops if id(op) not in dead]
    last = {op.args[0]: op for op in block.ops if op.spec.access == "write"}
    horizons = [out[name] for name, op in last.items() if op.name == "defer"]
    if horizons:
        block.ops.insert(len(block.ops) - 1, Op("settle", [max(h[0] for h in horizons),
                                                           max(h[1] for h in horizons)]))
        counts["settles"] += 1


def _set(op: Op, context: Context) -> None:
    """Make a deferred write an ordinary one again."""
    if op.name == "defer":
        flags = context.guest.flags if context.guest is not None else ()
        is_flag = op.args[0] in flags or (context.guest is None and op.args[1].type == I1)
        op.name = "setflag" if is_flag else "setreg"


def liveness(region: Region, context: Context) -> dict[str, int]:
    for block in region.blocks:  # start afresh: earlier decisions are remade below
        block.ops = [op for op in block.ops if op.name != "settle"]
    flow = _Flow(region, context, follow_exits=True)
    counts: Counter = Counter()
    for block in region.blocks:
        _rewrite(block, flow.out(block), context, counts)
    return {key: counts[key] for key in ("deleted", "deferred", "settles")}
