"""Region formation, the same for every frontend: discover the guest code reachable from an entry
over statically known branches, cut it into blocks at branch targets, and lift each block.

Control flow that leaves the discovered code ends in a small exit block (``X0030``: ``exit 0x30``),
so loops whose blocks were all discovered run inside one compiled function.
"""

from __future__ import annotations

from collections.abc import Sequence

from recomp.frontends.base import DecodeError, Frontend, Insn
from recomp.ir.core import Builder, Region, Value

REGION_INSTRUCTIONS = 256  # guest instructions discovered per region at most


class RegionBuilder(Builder):
    """A builder that also knows which guest addresses have blocks in the region."""

    def __init__(self, region: Region, labels: dict[int, str]) -> None:
        super().__init__(region)
        self.labels = labels
        self.exit_stubs: dict[int, str] = {}

    def label_for(self, addr: int) -> str:
        """The block that runs guest address ``addr``: in the region, or an exit stub."""
        if addr in self.labels:
            return self.labels[addr]
        return self.exit_stubs.setdefault(addr, f"X{addr:04X}")

    def goto(self, addr: int) -> None:
        self.br(self.label_for(addr))

    def branch(self, cond: Value, taken: int, not_taken: int) -> None:
        self.cbr(cond, self.label_for(taken), self.label_for(not_taken))

    @property
    def terminated(self) -> bool:
        return self.block is not None and self.block.terminator is not None


def _discover(fe: Frontend, memory: Sequence[int], entry: int, end: int, limit: int
              ) -> tuple[dict[int, Insn | DecodeError], set[int]]:
    decoded: dict[int, Insn | DecodeError] = {}
    leaders = {entry}
    work = [entry]
    while work:
        addr = work.pop()
        while addr not in decoded and len(decoded) < limit:
            try:
                insn = fe.decode(memory, addr, end)
            except DecodeError as error:
                decoded[addr] = error
                break
            decoded[addr] = insn
            new = [t for t in insn.targets if t not in leaders]
            if insn.ends_block and insn.falls_through and insn.next not in leaders:
                new.append(insn.next)
            leaders.update(new)
            work.extend(new)
            if insn.ends_block:
                break
            addr = insn.next
    return decoded, leaders


def build_region(fe: Frontend, memory: Sequence[int], entry: int, end: int,
                 limit: int = REGION_INSTRUCTIONS) -> Region:
    """Lift the code reachable from ``entry``; ``limit=1`` gives one instruction and its exits."""
    decoded, leaders = _discover(fe, memory, entry, end, limit)
    starts = [entry, *sorted(a for a in leaders if a in decoded and a != entry)]
    region = Region(fe.guest.name, entry)
    b = RegionBuilder(region, {a: f"L{a:04X}" for a in starts})
    for start in starts:
        run: list[Insn] = []
        addr = start
        stop: DecodeError | None = None
        while True:
            item = decoded.get(addr)
            if not isinstance(item, Insn):
                stop = item  # an undecodable instruction, or code not discovered
                break
            run.append(item)
            addr = item.next
            if item.ends_block or addr in b.labels or limit == 1:
                break
        b.new_block(b.labels[start], start)
        if run:
            b.guard(len(run))
        for insn in run:
            b.insn(insn.addr, insn.cycles, comment=insn.text)
            fe.lift(b, insn)
        if not b.terminated:
            if isinstance(stop, DecodeError):
                b.fault(stop.addr)
            else:
                b.goto(addr)
    for addr, label in b.exit_stubs.items():
        b.new_block(label, addr)
        b.exit(addr)
    return region
