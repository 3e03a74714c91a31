"""The reference engine: a Python interpreter of icode, the semantics the JIT is tested against
(``--engine interp``), and the JIT's Python tier for guests without a native interpreter.

Each op is turned once into a small closure; running a region calls them in order.  Pure ops use
``recomp.ir.evaluate``, the same functions constant folding uses.  Each op touches only the state
fields the op table declares (``tests/test_ir.py`` watches it do so).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from recomp.ir.core import Block, Op, Region
from recomp.ir.evaluate import BINARY, CAST
from recomp.ir.guest import ATTR_READ_HELPER, ATTR_WRITE_CHECK, ATTR_WRITE_HELPER, ATTR_WRITE_WATCH
from recomp.ir.ops import LEAVE_AT, LEAVE_IF, LEAVE_WHEN, Exit
from recomp.ir.types import I8
from recomp.runtime.machine import Machine

Env = list[int]
Step = Callable[[Env], "int | str | None"]  # None: next op; str: next block; Exit: leave


class ReferenceRegion:
    """A region ready to interpret against one machine's state and memory."""

    def __init__(self, region: Region, machine: Machine, hot_blocks: int | None = None) -> None:
        """``hot_blocks``: as the JIT's Python tier, leave (at a block boundary, exit reason jump)
        after this many block-to-block transitions in one call and set ``hot``, so that a loop
        running inside the region goes on in compiled code."""
        self.machine = machine
        self.hot_blocks = hot_blocks
        self.hot = False
        self.addresses = {b.label: b.addr for b in region.blocks}
        self.state = machine.state
        self.memory = machine.memory_view
        self.attrs = machine.attrs_view
        self.mask = len(self.memory) - 1
        self.size = region.next_value_id()
        self.pending: dict[str, int] = {}  # deferred register and flag values of the current block
        self.deferred: set[str] = set()  # while building a block's steps: fields deferred so far
        self.blocks = {b.label: self._steps(b) for b in region.blocks}
        self.entry = region.blocks[0].label
        self.insn_pc = region.entry  # the instruction running (the memory helpers are given it)

    def read_byte(self, addr: int) -> int:
        """A guest byte: from memory, or from the device that owns the address (or the watchpoint)."""
        addr &= self.mask
        if self.attrs[addr] & ATTR_READ_HELPER:
            return self.machine.io_read(addr, self.state.cycles, self.insn_pc) & 0xFF
        return self.memory[addr]

    def write_byte(self, addr: int, value: int) -> None:
        """Store a guest byte: to a device, or to memory, noting a hit on translated code or a
        watchpoint."""
        addr &= self.mask
        attr = self.attrs[addr]
        if not attr:
            self.memory[addr] = value
        elif attr & ATTR_WRITE_HELPER:
            self.machine.io_write(addr, value, self.state.cycles, self.insn_pc)
            if attr & ATTR_WRITE_WATCH:
                self.state.code_written = 1
        else:
            self.memory[addr] = value
            if attr & ATTR_WRITE_CHECK:
                self.machine.code_write(addr, self.insn_pc)
                self.state.code_written = 1

    def materialize(self) -> None:
        """Write the block's deferred values: the region is leaving before the block ends."""
        for name, value in self.pending.items():
            setattr(self.state, name, value)
        self.pending.clear()

    def __call__(self) -> int:
        env = [0] * self.size
        steps = self.blocks[self.entry]
        pending = self.pending
        pending.clear()
        transitions = 0
        while True:
            for step in steps:
                outcome = step(env)
                if outcome is not None:
                    break
            if not isinstance(outcome, str):
                return outcome
            if pending:  # deferred values are forgotten at the block's terminator
                pending.clear()
            transitions += 1
            if self.hot_blocks is not None and transitions >= self.hot_blocks:
                self.hot = True
                self.state.pc = self.addresses[outcome]
                return Exit.JUMP
            steps = self.blocks[outcome]

    def _steps(self, block: Block) -> list[Step]:
        self.deferred = set()
        return [_STEPS[op.name](self, block, op) for op in block.ops]


def _d(op: Op) -> int:
    return op.result.id


def _ids(op: Op) -> list[int]:
    return [v.id for v in op.values()]


def _const(r: ReferenceRegion, block: Block, op: Op) -> Step:
    d, value = _d(op), op.args[0]

    def step(env: Env) -> None:
        env[d] = value
    return step


def _get(r: ReferenceRegion, block: Block, op: Op) -> Step:
    d, name, state = _d(op), op.args[0], r.state

    def step(env: Env) -> None:
        env[d] = getattr(state, name)
    return step


def _set(r: ReferenceRegion, block: Block, op: Op) -> Step:
    (s,), name, state, pending = _ids(op), op.args[0], r.state, r.pending
    if name in r.deferred:  # a write supersedes a value deferred earlier in the block
        r.deferred.discard(name)

        def step(env: Env) -> None:
            pending.pop(name, None)
            setattr(state, name, env[s])
        return step

    def step(env: Env) -> None:
        setattr(state, name, env[s])
    return step


def _defer(r: ReferenceRegion, block: Block, op: Op) -> Step:
    (s,), name, pending = _ids(op), op.args[0], r.pending
    r.deferred.add(name)

    def step(env: Env) -> None:
        pending[name] = env[s]
    return step


def _short(state: ctypes.Structure, instructions: int, cycles: int) -> bool:
    """The budgets do not cover this many more instructions and cycles (a guard leaves)."""
    return state.instructions + instructions > state.limit or state.cycles + cycles > state.cycle_limit


def _settle(r: ReferenceRegion, block: Block, op: Op) -> Step:
    state, (count, cycles) = r.state, op.args

    def step(env: Env) -> None:
        if _short(state, count, cycles) or state.events:
            r.materialize()
    return step


def _binary(r: ReferenceRegion, block: Block, op: Op) -> Step:
    d, (a, b), fn = _d(op), _ids(op), BINARY[op.name]
    t = next(op.values()).type

    def step(env: Env) -> None:
        env[d] = fn(t, env[a], env[b])
    return step


def _cast(r: ReferenceRegion, block: Block, op: Op) -> Step:
    d, (a,), fn = _d(op), _ids(op), CAST[op.name]
    src, dst = next(op.values()).type, op.result.type

    def step(env: Env) -> None:
        env[d] = fn(src, dst, env[a])
    return step


def _select(r: ReferenceRegion, block: Block, op: Op) -> Step:
    d, (c, a, b) = _d(op), _ids(op)

    def step(env: Env) -> None:
        env[d] = env[a] if env[c] else env[b]
    return step


def _load(r: ReferenceRegion, block: Block, op: Op) -> Step:
    d, (a,), read = _d(op), _ids(op), r.read_byte
    if op.result.type == I8:
        def step(env: Env) -> None:
            env[d] = read(env[a])
    else:
        def step(env: Env) -> None:
            addr = env[a]
            env[d] = read(addr) | read(addr + 1) << 8
    return step


def _fetch(r: ReferenceRegion, block: Block, op: Op) -> Step:
    d, (a,), memory, mask = _d(op), _ids(op), r.memory, r.mask

    def step(env: Env) -> None:
        env[d] = memory[env[a] & mask]
    return step


def _store(r: ReferenceRegion, block: Block, op: Op) -> Step:
    (a, v), write = _ids(op), r.write_byte
    wide = list(op.values())[1].type != I8

    def step(env: Env) -> None:
        addr, value = env[a], env[v]
        write(addr, value & 0xFF)
        if wide:
            write(addr + 1, value >> 8)
    return step


def _call(r: ReferenceRegion, block: Block, op: Op) -> Step:
    ids, machine = _ids(op), r.machine
    helper = machine.frontend.helper_functions[op.args[0]]
    d = op.result.id if op.result is not None else None
    mask = op.result.type.mask if op.result is not None else 0

    def step(env: Env) -> None:
        result = helper(machine, *(env[i] for i in ids))
        if d is not None:
            env[d] = result & mask
    return step


def _insn(r: ReferenceRegion, block: Block, op: Op) -> Step:
    state, pc, cycles, trace, memory = r.state, op.args[0], op.args[1], r.machine.trace, r.memory

    def step(env: Env) -> None:
        r.insn_pc = pc
        if trace is not None:
            trace.record(pc, memory)
        state.instructions += 1
        if cycles:
            state.cycles += cycles
    return step


def _cycles(r: ReferenceRegion, block: Block, op: Op) -> Step:
    (a,), state = _ids(op), r.state

    def step(env: Env) -> None:
        state.cycles += env[a]
    return step


def _guard(r: ReferenceRegion, block: Block, op: Op) -> Step:
    state, (count, cycles), addr = r.state, op.args, block.addr

    def step(env: Env) -> int | None:
        if _short(state, count, cycles):
            r.materialize()
            state.pc = addr
            return Exit.GUARD
        return None
    return step


def _leave_if(field: str, reason: Exit):
    def make(r: ReferenceRegion, block: Block, op: Op) -> Step:
        (a,), state = _ids(op), r.state

        def step(env: Env) -> int | None:
            if getattr(state, field):
                r.materialize()
                state.pc = env[a]
                return reason
            return None
        return step
    return make


def _leave_when(reason: Exit):
    def make(r: ReferenceRegion, block: Block, op: Op) -> Step:
        (c,), state, addr = _ids(op), r.state, op.args[1]

        def step(env: Env) -> int | None:
            if env[c]:
                r.materialize()
                state.pc = addr
                return reason
            return None
        return step
    return make


def _br(r: ReferenceRegion, block: Block, op: Op) -> Step:
    label = op.args[0]
    return lambda env: label


def _cbr(r: ReferenceRegion, block: Block, op: Op) -> Step:
    (c,), taken, not_taken = _ids(op), op.args[1], op.args[2]
    return lambda env: taken if env[c] else not_taken


def _leave_at(reason: Exit):
    def make(r: ReferenceRegion, block: Block, op: Op) -> Step:
        state, addr = r.state, op.args[0]

        def step(env: Env) -> int:
            state.pc = addr
            return reason
        return step
    return make


def _exit_ind(r: ReferenceRegion, block: Block, op: Op) -> Step:
    (a,), state = _ids(op), r.state

    def step(env: Env) -> int:
        state.pc = env[a]
        return Exit.JUMP
    return step


def _jump_ind(r: ReferenceRegion, block: Block, op: Op) -> Step:
    (a,), state = _ids(op), r.state
    listed = {r.addresses[label]: label for label in op.args[1:]}

    def step(env: Env) -> int | str:
        label = listed.get(env[a])
        if label is None:
            state.pc = env[a]
            return Exit.JUMP
        return label
    return step


_STEPS: dict[str, Callable[[ReferenceRegion, Block, Op], Step]] = {
    "const": _const,
    "getreg": _get,
    "setreg": _set,
    "getflag": _get,
    "setflag": _set,
    "defer": _defer,
    **{name: _binary for name in BINARY},
    **{name: _cast for name in CAST},
    "select": _select,
    "load": _load,
    "fetch": _fetch,
    "store": _store,
    "call": _call,
    "insn": _insn,
    "cycles": _cycles,
    "guard": _guard,
    "settle": _settle,
    **{name: _leave_if(field, reason) for name, (field, reason) in LEAVE_IF.items()},
    **{name: _leave_when(reason) for name, reason in LEAVE_WHEN.items()},
    "br": _br,
    "cbr": _cbr,
    "exit_ind": _exit_ind,
    "jump_ind": _jump_ind,
    **{name: _leave_at(reason) for name, reason in LEAVE_AT.items()},
}
