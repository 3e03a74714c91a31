"""The stages of the pipeline as text, for ``recomp inspect`` and notebooks: guest disassembly,
icode, optimized icode, LLVM IR after the pass pipeline, host assembly."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recomp.frontends.base import DecodeError
from recomp.ir.core import Region
from recomp.ir.text import format_region
from recomp.ir.verify import verify
from recomp.runtime.emulator import Emulator

if TYPE_CHECKING:
    from recomp.backend.jit import Compiled

STAGES = ("guest", "icode", "opt", "llvm", "host")
# pygments lexer per stage, for syntax highlighting
LEXERS = {"guest": "nasm", "icode": "llvm", "opt": "llvm", "llvm": "llvm", "host": "nasm"}


@dataclass
class Inspection:
    """Every stage of one region, computed once."""

    emulator: Emulator
    at: int
    lifted: Region
    optimized: Region
    opt_stats: dict[str, dict[str, int]]
    guards: bool = False  # as run() compiles without an instruction budget
    _compiled: Compiled | None = None

    def guest(self) -> str:
        addrs = sorted({op.args[0] for op in self.lifted.ops() if op.name == "insn"}
                       | {op.args[0] for op in self.lifted.ops() if op.name == "fault"})
        emu = self.emulator
        lines = []
        for addr in addrs:
            try:
                insn = emu.frontend.decode(emu.memory_view, addr, emu.loaded_end)
                raw, text = bytes(emu.memory_view[addr:insn.next]), insn.text
            except DecodeError as error:
                raw, text = bytes(emu.memory_view[addr:addr + 1]), f"; cannot decode: {error.message}"
            lines.append(f"{addr:04x}:  {raw.hex(' '):<20} {text}")
        return "\n".join(lines) + "\n"

    def icode(self) -> str:
        return format_region(self.lifted)

    def opt(self) -> str:
        return format_region(self.optimized)

    def compiled(self) -> Compiled:
        """The region compiled as ``run`` compiles it (compiled once, on first use)."""
        if self._compiled is None:
            from recomp.backend.jit import jit
            from recomp.runtime.helpers import register_helpers

            register_helpers(self.emulator.frontend)
            self._compiled = jit().compile(self.optimized, self.emulator.guest, self.guards)
        return self._compiled

    def llvm(self) -> str:
        return self.compiled().optimized_ir

    def host(self) -> str:
        from recomp.backend.jit import jit

        compiled = self.compiled()
        listing = jit().disassemble(compiled)
        lines = [f"; {compiled.name} at {compiled.address:#x}"]
        lines += [f"{addr:#014x}:  {mnemonic:<8} {operands}".rstrip() for addr, mnemonic, operands in listing]
        return "\n".join(lines) + "\n"

    def stage(self, name: str) -> str:
        return getattr(self, name)()


def _lift_and_optimize(emulator: Emulator, at: int, entry: dict[str, int]
                       ) -> tuple[Region, Region, dict[str, dict[str, int]]]:
    """The region at ``at`` as lifted, and an optimized copy as ``run`` would compile it when
    entered with the ``entry`` facts (the specialized state fields)."""
    from recomp.opt import optimize

    lifted, covers = emulator.lift_code(at)
    verify(lifted, emulator.guest)
    optimized = copy.deepcopy(lifted)
    stats = {}
    if emulator.optimize:
        stats = optimize(optimized, emulator.optimizer_context(covers, entry=entry), emulator.passes)
    return lifted, optimized, stats


def inspect_region(emulator: Emulator, at: int, guards: bool = False) -> Inspection:
    """Lift the region at ``at`` and optimize a copy, keeping both, as ``run`` would translate it
    in the emulator's current state; ``guards`` compiles it with the instruction-budget checks
    that ``run(max_instructions=...)`` needs."""
    return Inspection(emulator, at, *_lift_and_optimize(emulator, at, emulator.entry_facts()), guards)


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

    frontend = emulator.frontend
    flags = emulator.guest.flags
    totals = {"blocks": 0, "guest_instructions": 0, "ops_before": 0, "ops_after": 0,
              "flag_writes_before": 0, "flag_writes_after": 0, "flag_writes_deferred": 0}
    passes: dict[str, dict[str, int]] = {}
    covered: set[int] = set()
    work: list[tuple[int, dict[str, int]]] = [(entry, emulator.entry_facts())]
    while work:
        pc, facts = work.pop()
        if pc in covered:
            continue
        lifted, region, stats = _lift_and_optimize(emulator, pc, facts)
        known = constants_in(lifted, Context(emulator.guest, entry=facts))
        before, after = counts(lifted, flags), counts(region, flags)
        totals["ops_before"] += before["ops"]
        totals["flag_writes_before"] += before["flag_writes"]
        totals["ops_after"] += after["ops"]
        totals["flag_writes_after"] += after["flag_writes"]
        totals["flag_writes_deferred"] += after["flag_writes_deferred"]
        for name, removed in stats.items():
            total = passes.setdefault(name, {})
            for key, n in removed.items():
                total[key] = total.get(key, 0) + n
        for block in lifted.blocks:
            addresses = [op.args[0] for op in block.ops if op.name == "insn"]
            if addresses:
                totals["blocks"] += 1
                totals["guest_instructions"] += len(addresses)
                covered.update(addresses)
            elif block.ops[-1].name == "exit":
                exit_facts = known[block.label]
                work.append((block.ops[-1].args[0], {k: v for k, v in exit_facts.items() if k in emulator.specialize}))
            for addr in addresses:
                try:
                    more = frontend.decode(emulator.memory_view, addr, emulator.loaded_end).more_code
                except DecodeError:
                    continue
                work.extend((target, {}) for target in more)
    return {**totals, "passes": passes}
