"""icode data structures: values, ops, blocks and regions.

A region is the unit of compilation: several blocks of guest code, loops included.  Values are
SSA and local to their block; blocks talk to each other only through guest state, which keeps
every block independently executable and the lowering free of phi nodes.
"""

from __future__ import annotations

from collections.abc import Iterator

from recomp.ir.ops import OPS, OpSpec, operand_kinds
from recomp.ir.types import I1, Type


# The records here (and the others made at import on a run's path) are plain classes: a
# dataclass costs 0.1 to 0.7 ms to create when its module is imported, and every ``recomp``
# process imports about 20 of them (docs/performance.md, start-up).
class Value:
    """An SSA value: defined once by an op, named ``%id`` in text."""

    __slots__ = ("id", "type")

    def __init__(self, id: int, type: Type) -> None:
        self.id = id
        self.type = type

    def __repr__(self) -> str:
        return f"Value(id={self.id}, type={self.type!r})"

    def __str__(self) -> str:
        return f"%{self.id}"


class Op:
    """One icode operation. ``args`` follow the operand kinds of ``OPS[name]``; ``note`` is the
    comment, as its ``str()`` (a decoded instruction is disassembled only when shown)."""

    __slots__ = ("args", "name", "note", "result")

    def __init__(self, name: str, args: list[Value | int | str], result: Value | None = None,
                 note: object = "") -> None:
        self.name = name
        self.args = args
        self.result = result
        self.note = note

    def __repr__(self) -> str:
        return f"Op(name={self.name!r}, args={self.args!r}, result={self.result!r}, note={self.comment!r})"

    @property
    def comment(self) -> str:
        return str(self.note)

    @property
    def spec(self) -> OpSpec:
        return OPS[self.name]

    def values(self) -> Iterator[Value]:
        """The value operands, in order."""
        return (a for a in self.args if isinstance(a, Value))

    def state_reads(self) -> frozenset[str]:
        """The guest state fields it reads, as the op table declares them (a helper call's are
        its helper's)."""
        spec = OPS[self.name]
        return spec.fields_read | {self.args[0]} if spec.access == "read" else spec.fields_read

    def state_writes(self) -> frozenset[str]:
        """The guest state fields it writes (``pc`` where it leaves; a helper's are its own)."""
        spec = OPS[self.name]
        return spec.fields_written | {self.args[0]} if spec.access == "write" else spec.fields_written


class Block:
    """A straight-line run of ops ending in one terminator; ``addr`` is the guest address it starts at."""

    def __init__(self, label: str, addr: int, ops: list[Op] | None = None) -> None:
        self.label = label
        self.addr = addr
        self.ops: list[Op] = [] if ops is None else ops

    def __repr__(self) -> str:
        return f"Block(label={self.label!r}, addr={self.addr:#x}, ops=[{len(self.ops)} ops])"

    @property
    def terminator(self) -> Op | None:
        return self.ops[-1] if self.ops and self.ops[-1].spec.terminator else None

    def successors(self) -> list[str]:
        term = self.terminator
        if term is None:
            return []
        return [a for a, kind in zip(term.args, operand_kinds(term.spec, len(term.args))) if kind == "b"]

    def budget(self) -> tuple[int, int]:
        """The guest instructions and most cycles of the block, as its guard states them (blocks
        without one, such as interrupt entries, count their instruction markers)."""
        for op in self.ops:
            if op.name == "guard":
                return op.args[0], op.args[1]
        insns = [op for op in self.ops if op.name == "insn"]
        return len(insns), sum(op.args[1] for op in insns)


class Region:
    """Blocks compiled as one unit; execution enters at the first block."""

    def __init__(self, guest: str, entry: int, blocks: list[Block] | None = None) -> None:
        self.guest = guest
        self.entry = entry
        self.blocks: list[Block] = [] if blocks is None else blocks

    def __repr__(self) -> str:
        return f"Region(guest={self.guest!r}, entry={self.entry:#x}, blocks=[{len(self.blocks)} blocks])"

    def block(self, label: str) -> Block:
        for b in self.blocks:
            if b.label == label:
                return b
        raise KeyError(label)

    def ops(self) -> Iterator[Op]:
        for b in self.blocks:
            yield from b.ops

    def static_exits(self) -> list[int]:
        """The guest addresses its ``exit`` terminators leave for, in order."""
        return sorted({b.ops[-1].args[0] for b in self.blocks if b.ops and b.ops[-1].name == "exit"})

    def next_value_id(self) -> int:
        ids = [op.result.id for op in self.ops() if op.result is not None]
        return max(ids, default=-1) + 1


def result_type(name: str, args: list[Value | int | str], declared: Type | None) -> Type | None:
    """The type an op's result has by the table's rule (``declared`` for ``decl`` ops)."""
    rule = OPS[name].result
    if rule is None:
        return None
    if rule == "i1":
        return I1
    if rule == "decl":
        return declared
    index = int(rule[3:])
    values = [a for a in args if isinstance(a, Value)]
    return values[index].type


class Builder:
    """Appends ops to a block; ``b.add(x, y)`` emits the op of that name (see ``OPS``)."""

    def __init__(self, region: Region, block: Block | None = None) -> None:
        self.region = region
        self.block = block
        self._next_id = region.next_value_id()

    def new_block(self, label: str, addr: int) -> Block:
        block = Block(label, addr)
        self.region.blocks.append(block)
        self.block = block
        return block

    def emit(self, name: str, *args: Value | int | str, type: Type | None = None,
             comment: object = "") -> Value | None:
        if name not in OPS:
            raise KeyError(f"unknown icode op {name!r}")
        arglist = list(args)
        rtype = result_type(name, arglist, type)
        result = None
        if rtype is not None:
            result = Value(self._next_id, rtype)
            self._next_id += 1
        assert self.block is not None, "no current block"
        self.block.ops.append(Op(name, arglist, result, comment))
        return result

    def const(self, type: Type, value: int) -> Value:
        return self.emit("const", value & type.mask, type=type)

    def __getattr__(self, name: str):
        if name.startswith("op_"):
            name = name[3:]  # op_and, op_or: Python keywords
        if name not in OPS:
            raise AttributeError(name)

        def emit(*args: Value | int | str, type: Type | None = None, comment: object = ""):
            return self.emit(name, *args, type=type, comment=comment)

        return emit
