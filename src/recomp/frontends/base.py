"""What every frontend provides: decoded instructions, decode errors and the frontend interface."""

from __future__ import annotations

import ctypes
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence, Set
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from recomp.ir.guest import GuestSpec
from recomp.ir.opcodes import OpcodeLifts

if TYPE_CHECKING:
    from recomp.frontends.region import RegionBuilder


class DecodeError(Exception):
    """Guest bytes that are not a valid instruction; ``addr`` is where the instruction starts."""

    def __init__(self, addr: int, message: str) -> None:
        super().__init__(message)
        self.addr = addr
        self.message = message


class Insn:
    """One decoded guest instruction (each decode makes its own: identity is equality; a plain
    class, as ``recomp.ir.core``'s records are, since a dataclass costs start-up time).

    ``targets`` are the statically known addresses it may jump to, ``falls_through`` says whether
    execution may continue at ``addr + size``; together they drive region formation.
    ``describe`` makes its text when first shown (``text``): disassembly costs, and compiling
    never shows it.  ``more_code``: other code this leads to as memory stands now (a call's
    return, an indirect jump's current target), for exploring a program, never for region
    formation (memory may change).  ``control``: it ends its block even without static targets
    (computed jumps...).  ``returns_to``: a call's return address (regions follow a call into
    its callee and hold the code it returns to, so that a return there stays in the region: see
    recomp.frontends.region).  ``is_return``: its target comes from the stack.  ``shape``: the
    offsets of the operand bytes that decide which guest state it touches (TST27's register
    numbers): with the opcode, all that the optimizer's look at code ahead depends on.
    ``mask``: addresses wrap with it (0xFFFF: after $FFFF comes $0000).  ``info``: the
    frontend's opcode-table entry.
    """

    def __init__(self, addr: int, size: int, mnemonic: str, operands: tuple[Any, ...],
                 describe: Callable[[], str], cycles: int = 0, extra_cycles: int = 0,
                 targets: tuple[int, ...] = (), falls_through: bool = True, more_code: tuple[int, ...] = (),
                 control: bool = False, returns_to: int | None = None, is_return: bool = False,
                 shape: tuple[int, ...] = (), mask: int = 0xFFFFFFFF, info: Any = None) -> None:
        self.addr = addr
        self.size = size
        self.mnemonic = mnemonic
        self.operands = operands
        self.describe = describe
        self.cycles = cycles  # base cycles
        self.extra_cycles = extra_cycles  # the most it can add (page crossings, taken branches)
        self.targets = targets
        self.falls_through = falls_through
        self.more_code = more_code
        self.control = control
        self.returns_to = returns_to
        self.is_return = is_return
        self.shape = shape
        self.mask = mask
        self.info = info

    def __repr__(self) -> str:
        return f"Insn(addr={self.addr:#x}, size={self.size}, mnemonic={self.mnemonic!r}, operands={self.operands!r})"

    @cached_property
    def text(self) -> str:
        return self.describe()

    def __str__(self) -> str:  # (an icode ``insn`` op's comment: shown only when printed)
        return self.text

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


class ComputedField(NamedTuple):
    """A state field made of others, read and written through functions (the 6502's packed
    status byte ``p``, kept as separate flags); ``bits``: how wide it is."""

    get: Callable[[ctypes.Structure], int]
    set: Callable[[ctypes.Structure, int], None]
    bits: int


class HelperHost(Protocol):
    """What a frontend's helper functions may use of the machine that runs them
    (``recomp.runtime.machine.Machine`` is one)."""

    state: ctypes.Structure

    def write(self, text: str) -> None:
        """Write the guest's text output."""


# a frontend's helper: called with the machine running it and the helper's arguments
HelperFunction = Callable[..., int | None]


class Frontend(ABC):
    """A guest CPU: every member the runtime, the backend and the CLI use, with its default.

    A subclass sets ``name`` and ``guest`` and implements ``decode`` and ``lift``; the rest are
    optional.  Facts about the guest that are not about its instructions (pc type, reset
    vector, interrupts, console) are in its ``GuestSpec``."""

    name: str  # what users call it: ``recomp run --cpu NAME`` (a variant of its family)
    family: str  # the CPU family it is a variant of (``6502``): what machines and formats are built for
    guest: GuestSpec
    # Python implementations of the guest's helpers (``GuestSpec.helpers``), by name
    helper_functions: dict[str, HelperFunction] = {}
    # computed state fields (the 6502's packed status byte ``p``)
    computed_fields: dict[str, ComputedField] = {}
    # region entries on the Python tier before a region is compiled (None: the runtime's default;
    # 0: compile every region at once)
    jit_threshold: int | None = None
    # assembles source text into a program image (None: the guest has no assembler)
    assemble: Callable[[str], bytes] | None = None
    # cold code runs on a native interpreter built from ``opcode_lifts()`` (else on the Python tier)
    native_interpreter: bool = False
    # registers and flags as the CPU's reset leaves them (the rest keep their values)
    reset_registers: dict[str, int] = {}
    # what an execution trace shows of the state before each instruction (empty: every
    # register and flag)
    trace_registers: tuple[str, ...] = ()
    # opcodes that return from a subroutine or an interrupt (the monitor's ``return`` stops before them)
    return_opcodes: frozenset[int] = frozenset()

    @abstractmethod
    def decode(self, memory: Sequence[int], addr: int, end: int,
               volatile: Set[int] = frozenset()) -> Insn:
        """Decode the instruction at ``addr``; bytes at ``end`` and beyond were never loaded;
        ``volatile`` bytes are rewritten by the guest (a branch offset there is not static).
        Raises ``DecodeError``."""

    @abstractmethod
    def lift(self, b: RegionBuilder, insn: Insn) -> None:
        """Emit the icode of one instruction (its ``insn`` marker is already emitted)."""

    def lift_interrupt(self, b: RegionBuilder, kind: str, pc: int) -> None:
        """Emit the icode of taking an interrupt (``"irq"`` or ``"nmi"``) at ``pc``; only guests
        whose ``GuestSpec.interrupts`` is set are asked."""
        raise NotImplementedError(f"{self.name} takes no interrupts")

    def idles(self, memory: Sequence[int], pc: int) -> bool:
        """Whether the instruction at ``pc``, which just jumped to itself, changes nothing but
        the pc and the counters (``JMP *``, a branch to itself; not the 6502's ``JSR *``, which
        pushes): a run may then skip its repetitions until an event (an idle loop)."""
        return False

    def trap_fault(self, memory: Sequence[int], pc: int) -> str | None:
        """Why the instruction at ``pc``, which just jumped to itself, is an error rather than a
        trap (one that changes more than the pc, such as the 6502's BRK through its own
        vector), or None: an idle loop."""
        return None

    def irq_masked(self, state: ctypes.Structure) -> bool:
        """Whether the guest masks IRQ in this state (the 6502: the I flag)."""
        return False

    def caller(self, memory: Sequence[int], state: ctypes.Structure) -> int | None:
        """Where the subroutine the guest is in returns to, as its stack says (a call
        instruction pushed it), or None if the guest cannot tell."""
        return None

    def opcode_lifts(self) -> OpcodeLifts:
        """Every opcode lifted once, for the native interpreter: guests with ``native_interpreter``
        return ``recomp.frontends.opcodes.opcode_lifts(type(self))``."""
        raise NotImplementedError(f"{self.name} has no native interpreter")

    def format_address(self, addr: int) -> str:
        """A guest address as its users write it."""
        return f"{addr:#06x}"
