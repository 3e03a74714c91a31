"""``emulator.breakpoints``: addresses a run stops before, in every tier, at no cost elsewhere.

A breakpoint is a stop address (regions end there, compiled code never jumps past one, the
native interpreter checks for it), so setting one drops what was translated across it, and
removing the last reason to stop at an address lets regions run through it again.  A run that
starts on a breakpoint executes it: that is where the last run stopped, and continuing must
get past it, as in any debugger."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from recomp.runtime.addresses import Address, address


class Breakpoints:
    """``check`` turns an address as given into one in memory (``ValueError`` if it is not)."""

    def __init__(self, check: Callable[[Address], int], stop_at: Callable[[int], None],
                 release: Callable[[int], None]) -> None:
        self._addresses: set[int] = set()
        self._check = check
        self._stop_at = stop_at
        self._release = release

    def add(self, addr: Address) -> None:
        addr = self._check(addr)
        if addr not in self._addresses:
            self._addresses.add(addr)
            self._stop_at(addr)

    def discard(self, addr: Address) -> None:
        addr = address(addr)
        if addr in self._addresses:
            self._addresses.discard(addr)
            self._release(addr)

    def remove(self, addr: Address) -> None:
        if address(addr) not in self._addresses:
            raise KeyError(addr)
        self.discard(addr)

    def clear(self) -> None:
        for addr in list(self._addresses):
            self.discard(addr)

    def __contains__(self, addr: object) -> bool:
        return addr in self._addresses

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._addresses))

    def __len__(self) -> int:
        return len(self._addresses)

    def __repr__(self) -> str:
        return f"Breakpoints({', '.join(f'${a:04X}' for a in self)})"
