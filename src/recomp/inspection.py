"""The stages of the pipeline as text, for ``recomp inspect`` and notebooks: guest disassembly,
icode, optimized icode, LLVM IR after the pass pipeline, host assembly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from recomp.frontends.base import DecodeError, Frontend
from recomp.ir.core import Region
from recomp.ir.text import format_op, format_region
from recomp.runtime.emulator import Emulator
from recomp.runtime.stats import add_pass_counts
from recomp.runtime.trace import Traced

if TYPE_CHECKING:
    from recomp.backend.compiled import Compiled

STAGES = ("guest", "icode", "opt", "llvm-raw", "llvm", "host")
# pygments lexer per stage, for syntax highlighting
LEXERS = {"guest": "nasm", "icode": "llvm", "opt": "llvm", "llvm-raw": "llvm", "llvm": "llvm", "host": "nasm"}


@dataclass
class Inspection:
    """Every stage of one region, computed once."""

    emulator: Emulator
    at: int
    lifted: Region
    optimized: Region
    opt_stats: dict[str, dict[str, int]]
    covers: frozenset[int]  # the bytes the region is made from
    guards: bool = False  # as run() compiles without an instruction budget
    _compiled: Compiled | None = None

    def guest(self) -> str:
        addrs = sorted({op.args[0] for op in self.lifted.ops() if op.name == "insn"}
                       | {op.args[0] for op in self.lifted.ops() if op.name == "fault"})
        machine = self.emulator.machine
        memory = machine.memory_view
        lines = []
        for addr in addrs:
            try:
                insn = machine.frontend.decode(memory, addr, machine.loaded_end)
                raw, text = bytes(memory[addr:insn.next]), insn.text
            except DecodeError as error:
                raw, text = bytes(memory[addr:addr + 1]), f"; cannot decode: {error.message}"
            lines.append(f"{addr:04x}:  {raw.hex(' '):<20} {text}")
        return "\n".join(lines) + "\n"

    def icode(self) -> str:
        return format_region(self.lifted)

    def icode_file(self) -> str:
        """The lifted region as an icode file: with the passes and what they may assume (its
        code, devices, entry facts, the code after its exits), ``recomp opt`` makes ``opt`` of it."""
        from recomp.icode_files import format_icode
        from recomp.opt import PIPELINE

        pipeline = self.emulator.pipeline
        options = pipeline.options
        passes = (PIPELINE if options.passes is None else options.passes) if options.optimize else ()
        return format_icode(self.lifted, passes, pipeline.context(set(self.covers), entry=pipeline.entry_facts()))

    def opt(self) -> str:
        return format_region(self.optimized)

    def compiled(self) -> Compiled:
        """The region compiled as ``run`` compiles it (compiled once, on first use)."""
        if self._compiled is None:
            self._compiled = self.emulator.pipeline.compile(self.optimized, self.guards, keep_ir=True,
                                                            covers=self.covers)
        return self._compiled

    def llvm_raw(self) -> str:
        """The LLVM IR the lowering makes of the optimized icode, before LLVM's pass pipeline."""
        import llvmlite.ir as ll

        from recomp.backend.lower import lower

        module = ll.Module(name=f"{self.emulator.guest.name}_{self.at:04x}")
        lower(self.optimized, self.emulator.guest, module, guards=self.guards, chain=True,
              name=f"{self.emulator.guest.name}_{self.at:04x}", quiet=self.emulator.pipeline.quiet_pages(self.covers))
        return str(module)

    def llvm(self) -> str:
        return self.compiled().optimized_ir

    def host(self) -> str:
        from recomp.backend.host import disassemble

        compiled = self.compiled()
        listing = disassemble(compiled)
        lines = [f"; {compiled.name} at {compiled.address:#x}"]
        lines += [f"{addr:#014x}:  {mnemonic:<8} {operands}".rstrip() for addr, mnemonic, operands in listing]
        return "\n".join(lines) + "\n"

    def side_by_side(self) -> list[tuple[str, list[str], list[str]]]:
        """Each guest instruction with its optimized icode and the host code made of it, as
        Compiler Explorer pairs source lines with assembly: (guest, icode lines, host lines).
        The host code is compiled again with markers at guest instruction boundaries (7-byte
        NOPs, left out here); otherwise it is what ``run`` compiles.  Host code LLVM moved or
        merged shows under the instruction it ended up after; the shared exits come last."""
        from recomp.backend.host import by_guest_instruction

        icode: dict[int, list[str]] = {}
        current: list[str] = []
        for op in self.optimized.ops():
            if op.name == "insn":
                current = icode.setdefault(op.args[0], [])
            else:
                current.append(format_op(op))
        machine = self.emulator.machine

        def text(addr: int) -> str:
            try:
                return machine.frontend.decode(machine.memory_view, addr, machine.loaded_end).text
            except DecodeError as error:
                return f"; {error.message}"

        compiled = self.emulator.pipeline.compile(self.optimized, self.guards, markers=True, covers=self.covers)
        rows = []
        for where, host in by_guest_instruction(compiled):
            label = f"{where:04x}  {text(where)}" if isinstance(where, int) else f"({where})"
            lines = icode.get(where, []) if isinstance(where, int) else []
            rows.append((label, lines, [f"{mnemonic:<7} {operands}".rstrip() for _, mnemonic, operands in host]))
        return rows

    def stage(self, name: str) -> str:
        """A stage's text as ``recomp inspect`` shows it, ending in a newline; the icode as an
        icode file (``icode_file``)."""
        text = self.icode_file() if name == "icode" else getattr(self, name.replace("-", "_"))()
        return text if text.endswith("\n") else text + "\n"


def inspect_region(emulator: Emulator, at: int, guards: bool = False) -> Inspection:
    """Lift the region at ``at`` and optimize a copy, keeping both, as ``run`` would translate it
    in the emulator's current state; ``guards`` compiles it with the instruction-budget checks
    that ``run(max_instructions=...)`` needs."""
    return Inspection(emulator, at, *emulator.pipeline.stages(at), guards)


def counts(region: Region, flags: tuple[str, ...]) -> dict[str, int]:
    """icode ops, flag writes, and flag writes deferred to the paths that leave the region."""
    ops = list(region.ops())
    return {"ops": len(ops), "flag_writes": sum(1 for op in ops if op.name == "setflag"),
            "flag_writes_deferred": sum(1 for op in ops if op.name == "defer" and op.args[0] in flags)}


def explore(emulator: Emulator, entry: int) -> dict:
    """Lift all code reachable from ``entry`` over direct branches, jumps and subroutine calls
    (and the returns after them, and indirect jumps as memory stands), region by region; count
    icode ops and flag writes before and after the optimizer, and what each pass removed.
    ``flag_writes_after`` counts the flag writes left on the path through each block;
    ``flag_writes_deferred`` those made only where the region leaves mid-block or a budget ends.

    Regions are specialized as ``run`` specializes them (the 6502's decimal flag) where the
    value is known statically: at the entry from the emulator's state, after a static exit from
    what the region before it leaves there; after returns and indirect jumps it is unknown."""
    from recomp.opt.context import Context
    from recomp.opt.forward import constants_in

    frontend, machine, pipeline = emulator.frontend, emulator.machine, emulator.pipeline
    flags = emulator.guest.flags
    totals = {"blocks": 0, "guest_instructions": 0, "ops_before": 0, "ops_after": 0,
              "flag_writes_before": 0, "flag_writes_after": 0, "flag_writes_deferred": 0}
    passes: dict[str, dict[str, int]] = {}  # what each pass removed, over all regions
    covered: set[int] = set()
    work: list[tuple[int, dict[str, int]]] = [(entry, pipeline.entry_facts())]
    while work:
        pc, facts = work.pop()
        if pc in covered:
            continue
        lifted, region, stats, _ = pipeline.stages(pc, facts)
        known = constants_in(lifted, Context(emulator.guest, entry=facts))
        before, after = counts(lifted, flags), counts(region, flags)
        totals["ops_before"] += before["ops"]
        totals["flag_writes_before"] += before["flag_writes"]
        totals["ops_after"] += after["ops"]
        totals["flag_writes_after"] += after["flag_writes"]
        totals["flag_writes_deferred"] += after["flag_writes_deferred"]
        add_pass_counts(passes, stats)
        for block in lifted.blocks:
            addresses = [op.args[0] for op in block.ops if op.name == "insn"]
            if addresses:
                totals["blocks"] += 1
                totals["guest_instructions"] += len(addresses)
                covered.update(addresses)
            elif block.ops[-1].name == "exit":
                exit_facts = known[block.label]
                specialized = {k: v for k, v in exit_facts.items() if k in emulator.guest.specialize}
                work.append((block.ops[-1].args[0], specialized))
            for addr in addresses:
                try:
                    more = frontend.decode(machine.memory_view, addr, machine.loaded_end).more_code
                except DecodeError:
                    continue
                work.extend((target, {}) for target in more)
    return {**totals, "passes": passes}


def hex_dump(emulator: Emulator, start: int, length: int) -> str:
    """Memory as ``$0200: 48 65 6C 6C 6F ...  Hello...`` lines of 16 bytes (devices not read)."""
    where = emulator.frontend.format_address
    lines = []
    for row in range(start, start + length, 16):
        data = emulator.memory[row:min(row + 16, start + length)]
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)
        lines.append(f"{where(row)}: {' '.join(f'{b:02X}' for b in data):<47}  {text}\n")
    return "".join(lines)


def register_line(emulator: Emulator, name_of: Callable[[int], str | None] = lambda addr: None) -> str:
    """The registers in one table: for the 6502 as py65's monitor shows them
    (``PC  AC XR YR SP NV-BDIZC``), else each register and flag by name; then the pc's symbol
    (``name_of``: ``_main+26``), if it has one."""
    st = emulator.state
    name = name_of(st.pc)
    after = f"  {name}" if name else ""
    if emulator.frontend.family == "6502":
        return (f"PC  AC XR YR SP NV-BDIZC\n{st.pc:04X} {st.a:02X} {st.x:02X} {st.y:02X} {st.s:02X} "
                f"{st.p:08b}{after}")
    guest = emulator.guest
    names = ["pc", *guest.registers, *guest.flags]
    return " ".join(f"{name}={getattr(st, name):#x}" for name in names) + after


def pass_steps(emulator: Emulator, at: int) -> list[tuple[str, dict[str, int], str, str]]:
    """The region at ``at`` through the optimizer one pass at a time, in the order ``run``
    applies them: (pass, what it removed, icode text before, icode text after) each."""
    from recomp.opt import PASSES, PIPELINE

    pipeline = emulator.pipeline
    lifted = pipeline.lift(at)
    context = pipeline.context(lifted.covers, False, pipeline.entry_facts())
    steps = []
    before = format_region(lifted.region)
    for name in emulator.options.passes if emulator.options.passes is not None else PIPELINE:
        counts = PASSES[name](lifted.region, context)
        after = format_region(lifted.region)
        steps.append((name, counts, before, after))
        before = after
    return steps


def pass_diffs(emulator: Emulator, at: int) -> str:
    """What each optimizer pass changed in the region at ``at``, as unified diffs of its icode
    text (a pass that changed nothing says so): ``recomp inspect --diff-passes``."""
    import difflib

    out = []
    for number, (name, counts, before, after) in enumerate(pass_steps(emulator, at), 1):
        removed = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing"
        out.append(f";; pass {number}: {name} ({removed})\n")
        diff = "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                            f"before {name}", f"after {name}"))
        out.append(diff or ";; (no change)\n")
    return "".join(out)


class _CodeWindow:
    """Guest memory as a trace record saw it, for the decoder: the instruction's bytes where they
    were, and 0 anywhere else (what a decoder reads beyond the instruction, such as the pointer
    of the 6502's ``JMP ($0300)``, only names code to explore, never the instruction's text)."""

    def __init__(self, pc: int, code: bytes, size: int) -> None:
        self.pc, self.code, self.size = pc, code, size

    def __getitem__(self, index: int | slice) -> int | bytes:
        if isinstance(index, slice):
            return bytes(self[addr] for addr in range(*index.indices(self.size)))
        offset = (index - self.pc) % self.size
        return self.code[offset] if offset < len(self.code) else 0

    def __len__(self) -> int:
        return self.size


@lru_cache(maxsize=1 << 16)
def _traced_instruction(frontend: Frontend, size: int, pc: int, code: bytes) -> tuple[str, str, str]:
    """A traced instruction's address, bytes and disassembly, as a trace line shows them (a
    trace runs through the same instructions again and again: each is decoded once)."""
    try:
        insn = frontend.decode(_CodeWindow(pc, code, size), pc, pc + len(code))
        raw, text = code[:insn.size], insn.text
    except DecodeError as error:
        raw, text = code[:1], f"??? {error.message}"
    return frontend.format_address(pc).lstrip("$"), raw.hex(" ").upper(), text


def trace_line(emulator: Emulator, entry: Traced, names: tuple[str, ...],
               name_of: Callable[[int], str | None] = lambda addr: None) -> str:
    """One traced instruction as emulator logs show it, to diff against theirs (nestest's):
    instruction count, cycles, pc, bytes, disassembly, then the registers ``names`` holds
    (``      1234        5678  C000  4C F5 C5  jmp $c5f5          A:00 X:00 Y:00 S:FD P:24``),
    and last the pc's symbol (``name_of``), if it has one."""
    where, raw, text = _traced_instruction(emulator.frontend, emulator.guest.memory_size, entry.pc, entry.code)
    registers = " ".join(f"{name.upper()}:{value:02X}" for name, value in zip(names, entry.registers))
    name = name_of(entry.pc)
    line = f"{entry.instructions:>10} {entry.cycles:>12}  {where}  {raw:<8}  {text:<18} {registers}"
    return f"{line}  {name}" if name else line.rstrip()


def side_by_side_text(rows: list[tuple[str, list[str], list[str]]], guest_width: int = 30,
                      icode_width: int = 46) -> str:
    """``Inspection.side_by_side`` as three aligned columns of plain text, a rule between rows."""
    from itertools import zip_longest

    out = [f"{'guest':<{guest_width}} {'icode (optimized)':<{icode_width}} host"]
    for guest, icode, host in rows:
        out.append("-" * (guest_width + icode_width + 40))
        for g, i, h in zip_longest([guest], [line.strip() for line in icode], host, fillvalue=""):
            out.append(f"{g[:guest_width]:<{guest_width}} {i[:icode_width]:<{icode_width}} {h}".rstrip())
    return "\n".join(out) + "\n"
