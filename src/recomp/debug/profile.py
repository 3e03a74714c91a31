"""Where a run spent its time: guest instructions and cycles by function, counted exactly.

Once a run has ``Emulator.start_profile``, the runtime counts, at every region entry and at
every transfer of the native interpreter (a jump, branch, call or return of cold code), the
instructions and cycles run since the one before (``EntryTable.profile``): each instruction is
counted once, to the region or the block of cold code that ran it, in every tier and at native
speed.  Here those counts are put together by function: a region's or a block's is the
function its first address is in, named by symbols (``_main``) where there are any, else by
that address (``$02DF``).  A region holds the code its calls lead to (regions follow calls), so
a small function called from a hot loop is counted with its caller's region unless it has one
of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from recomp.runtime.emulator import Emulator

COLD = "(before the first entry)"  # what ran between ``start_profile`` and the first entry (the runtime's)
SHOWN = 15  # rows of the text report


class ProfileRow(NamedTuple):
    name: str
    instructions: int
    cycles: int
    share: float  # of all instructions, 0..1


def profile_rows(emulator: Emulator, name_of: Callable[[int], str | None]) -> list[ProfileRow]:
    """The run's profile by function (``name_of``: a symbol for an address, ``_main+3``), the
    hottest first."""
    guest = emulator.guest
    counts = emulator.profile()
    by_name: dict[str, list[int]] = {}
    for index, (instructions, cycles) in counts.items():
        if index == guest.profile_cold:
            name = COLD
        else:
            symbol = name_of(index)
            name = symbol.partition("+")[0] if symbol else emulator.frontend.format_address(index)
        total = by_name.setdefault(name, [0, 0])
        total[0] += instructions
        total[1] += cycles
    everything = sum(total[0] for total in by_name.values()) or 1
    rows = [ProfileRow(name, i, c, i / everything) for name, (i, c) in by_name.items()]
    return sorted(rows, key=lambda row: (-row.instructions, row.name))


def profile_text(rows: list[ProfileRow], shown: int = SHOWN) -> str:
    """The hottest rows as an aligned table, and what the rest add up to."""
    lines = [f"{'function':<36} {'instructions':>14} {'cycles':>14} {'share':>7}"]
    for row in rows[:shown]:
        lines.append(f"{row.name[:36]:<36} {row.instructions:>14,} {row.cycles:>14,} {row.share:>7.1%}")
    rest = rows[shown:]
    if rest:
        lines.append(f"{f'({len(rest)} more)':<36} {sum(r.instructions for r in rest):>14,} "
                     f"{sum(r.cycles for r in rest):>14,} {sum(r.share for r in rest):>7.1%}")
    return "\n".join(lines)


def profile_json(rows: list[ProfileRow]) -> list[dict[str, object]]:
    """The rows for ``--profile-json``: a list of {name, instructions, cycles, share}."""
    return [row._asdict() for row in rows]
