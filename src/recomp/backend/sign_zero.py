"""The sign and zero flags kept as one value, for code that runs every instruction's icode as it
is (the native interpreter, the baseline compiler's stencils), with no optimizer to find the
flags an instruction sets that the next sets again.

Most instructions set both flags from one 8-bit result: N is its bit 7, Z whether it is 0
(``GuestSpec.sign_zero`` names the pair).  Such code keeps ``NZ``: that result, or, where the
flags were set apart (the 6502's BIT and PLP), bit 8 for the sign and 1 for a clear zero flag.
So the sign is ``NZ & 0x180 != 0`` and the zero flag ``NZ & 0xFF == 0`` whichever way they were
set, and an instruction that sets both from one result only keeps it (INY's stencil: 6 host
instructions instead of 10); a flag is computed where it is read, and the state's own N and Z
bytes are written from ``NZ`` wherever the code leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llvmlite import ir as ll

from recomp.backend.lower import I8_T, I32_T, Lowering
from recomp.ir.core import Op, Value
from recomp.ir.guest import GuestSpec
from recomp.ir.types import I1, I8

NZ = "NZ"  # the name of the sign and zero flags kept as one value (a slot, a stencil register)
NZ_SIGN, NZ_LOW = 0x100, 0xFF  # NZ's bit for a sign set apart from a result; its result byte
NZ_BITS = 9


def sign(b: ll.IRBuilder, nz: ll.Value) -> ll.Value:
    return b.icmp_unsigned("!=", b.and_(nz, I32_T(NZ_SIGN | 0x80)), I32_T(0))


def zero(b: ll.IRBuilder, nz: ll.Value) -> ll.Value:
    return b.icmp_unsigned("==", b.and_(nz, I32_T(NZ_LOW)), I32_T(0))


def encode(b: ll.IRBuilder, sign_flag: ll.Value, zero_flag: ll.Value) -> ll.Value:
    """``NZ`` for two flags (i1 each) set apart."""
    return b.or_(b.select(sign_flag, I32_T(NZ_SIGN), I32_T(0)), b.select(zero_flag, I32_T(0), I32_T(1)))


@dataclass
class SignZeroLowering(Lowering):
    """A lowering that keeps the guest's sign and zero flags as ``NZ`` (an i32 slot), when its
    code uses them."""

    producers: dict[int, Op] = field(default_factory=dict)  # icode value id -> the op that made it
    results: dict[int, tuple[str, int]] = field(default_factory=dict)  # an i1's id -> (which flag of
    # an 8-bit result it is, "sign" or "zero"; that result's id)
    sources: dict[str, int | None] = field(default_factory=dict)  # sign/zero flag -> the result
    # it was last set from, while it is so

    @classmethod
    def start(cls, guest: GuestSpec, function: ll.Function, guards: bool, chain: bool, used: set[str],
              written: set[str], loop_heads: frozenset[str] = frozenset(), **more: object) -> SignZeroLowering:
        pair = set(guest.sign_zero or ()) & used
        lo = super().start(guest, function, guards, chain, used - pair, written, loop_heads, **more)
        if pair:
            lo.slots[NZ] = lo.builder.alloca(I32_T, name=NZ)
            lo.reload_sign_zero()
        return lo

    @property
    def pair(self) -> tuple[str, str] | tuple[()]:
        """The sign and zero flags, where this code keeps them as ``NZ``."""
        return self.guest.sign_zero if NZ in self.slots else ()

    def define(self, op: Op, result: ll.Value) -> None:
        super().define(op, result)
        self.producers[op.result.id] = op
        if op.result.type == I1 and op.name in ("trunc", "eq"):
            self._note_flag_of_result(op)

    def _note_flag_of_result(self, op: Op) -> None:
        """Note an i1 that is the sign (``trunc(lshr(x, 7))``) or the zero flag (``x == 0``) of
        an 8-bit result ``x``."""
        def constant(v: Value) -> int | None:
            made = self.producers.get(v.id)
            return made.args[0] if made is not None and made.name == "const" else None

        if op.name == "eq":
            x, c = op.values()
            if x.type == I8 and constant(c) == 0:
                self.results[op.result.id] = ("zero", x.id)
            return
        (truncated,) = op.values()
        shifted = self.producers.get(truncated.id)
        if shifted is not None and shifted.name == "lshr":
            x, by = shifted.values()
            if x.type == I8 and constant(by) == 7:
                self.results[op.result.id] = ("sign", x.id)

    def flag(self, name: str) -> ll.Value:
        if name not in self.pair:
            return super().flag(name)
        nz = self.builder.load(self.slots[NZ])
        return (sign if name == self.pair[0] else zero)(self.builder, nz)

    def current(self, name: str) -> ll.Value:
        if name in self.pair:
            return self.builder.zext(self.flag(name), I8_T)
        return super().current(name)

    def store_field(self, name: str, v: Value) -> None:
        pair = self.pair
        if name not in pair:
            super().store_field(name, v)
            return
        b, slot = self.builder, self.slots[NZ]
        kind = "sign" if name == pair[0] else "zero"
        noted = self.results.get(v.id)
        self.sources[name] = noted[1] if noted is not None and noted[0] == kind else None
        source = self.sources.get(pair[0])
        if source is not None and source == self.sources.get(pair[1]):  # both from one result: keep it
            b.store(b.zext(self.values[source], I32_T), slot)
            return
        nz = b.load(slot)
        flags = (self.value(v), zero(b, nz)) if kind == "sign" else (sign(b, nz), self.value(v))
        b.store(encode(b, *flags), slot)

    def flush(self) -> None:
        for name in sorted(self.written):
            if name in self.pair:
                self.builder.store(self.current(name), self.field_ptr(name))
            elif name != NZ:
                self.builder.store(self.builder.load(self.slots[name]), self.field_ptr(name))

    def reload(self) -> None:
        for name, slot in self.slots.items():
            if name != NZ:
                self.builder.store(self.load_field(name), slot)
        if NZ in self.slots:
            self.reload_sign_zero()

    def reload_sign_zero(self) -> None:
        """``NZ`` from the state's sign and zero flags."""
        b = self.builder
        flags = (b.trunc(self.load_field(name), ll.IntType(1)) for name in self.guest.sign_zero)
        b.store(encode(b, *flags), self.slots[NZ])
