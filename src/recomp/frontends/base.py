"""What every frontend provides: decoded instructions, decode errors and the frontend interface."""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from recomp.ir.guest import GuestSpec

if TYPE_CHECKING:
    from recomp.frontends.region import RegionBuilder


class DecodeError(Exception):
    """Guest bytes that are not a valid instruction; ``addr`` is where the instruction starts."""

    def __init__(self, addr: int, message: str) -> None:
        super().__init__(message)
        self.addr = addr
        self.message = message


@dataclass(frozen=True)
class Insn:
    """One decoded guest instruction.

    ``targets`` are the statically known addresses it may jump to, ``falls_through`` says whether
    execution may continue at ``addr + size``; together they drive region formation.
    """

    addr: int
    size: int
    mnemonic: str
    operands: tuple[Any, ...]
    text: str
    cycles: int = 0  # base cycles
    extra_cycles: int = 0  # the most it can add (page crossings, taken branches)
    targets: tuple[int, ...] = ()
    falls_through: bool = True
    # other code this leads to as memory stands now (a call's return, an indirect jump's current
    # target): for exploring a program, never for region formation (memory may change)
    more_code: tuple[int, ...] = ()
    control: bool = False  # ends its block even without static targets (computed jumps...)
    # offsets of the operand bytes that decide which guest state it touches (TST27's register
    # numbers): with the opcode, all that the optimizer's look at code ahead depends on
    shape: tuple[int, ...] = ()
    mask: int = 0xFFFFFFFF  # addresses wrap with it (0xFFFF: after $FFFF comes $0000)
    info: Any = field(default=None, compare=False)  # the frontend's opcode-table entry

    @property
    def next(self) -> int:
        return (self.addr + self.size) & self.mask

    def byte_addresses(self) -> list[int]:
        """The addresses of the instruction's bytes, opcode first."""
        return [(self.addr + i) & self.mask for i in range(self.size)]

    @property
    def max_cycles(self) -> int:
        return self.cycles + self.extra_cycles

    @property
    def ends_block(self) -> bool:
        return self.control or bool(self.targets) or not self.falls_through


class Frontend(Protocol):
    name: str
    guest: GuestSpec

    def decode(self, memory: Sequence[int], addr: int, end: int,
               volatile: Set[int] = frozenset()) -> Insn:
        """Decode the instruction at ``addr``; bytes at ``end`` and beyond were never loaded;
        ``volatile`` bytes are rewritten by the guest (a branch offset there is not static)."""
        ...

    def lift(self, b: RegionBuilder, insn: Insn) -> None:
        """Emit the icode of one instruction (its ``insn`` marker is already emitted)."""
        ...
