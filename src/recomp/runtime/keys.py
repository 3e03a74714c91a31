"""The keys of translations: a ``TranslationKey`` for code at a guest address, an
``InterruptKey`` for the code that takes an interrupt.  A translation key knows its slot in the
native entry table and its name in the code cache, and reads that name back."""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable
from operator import attrgetter
from typing import NamedTuple

from recomp.ir.guest import GuestSpec

_CACHE_NAME = re.compile(r"(?P<pc>[0-9a-f]{5})-s(?P<specialized>(?:\d+(?:_\d+)*)?)-(?P<mode>guards|free)")


class TranslationKey(NamedTuple):
    """The translation to run at ``pc``: for the values of the guest's specialized flags there
    (``GuestSpec.specialize``), one instruction only (``single``: a step) or a whole region, with
    budget checks (``guards``) or without."""

    pc: int
    single: bool
    guards: bool
    specialized: tuple[int, ...]

    def entry_index(self, guest: GuestSpec) -> int:
        """Its slot in the native entry table: the address, then one bit per specialized flag."""
        index = self.pc
        for bit, value in enumerate(self.specialized, guest.address_bits):
            index |= (value & 1) << bit
        return index

    def cache_name(self) -> str:
        """Its name in the code cache (regions only: single steps are never filed there)."""
        values = "_".join(str(v) for v in self.specialized)
        return f"{self.pc:05x}-s{values}-{'guards' if self.guards else 'free'}"

    @classmethod
    def parse(cls, name: str) -> TranslationKey | None:
        """The key of a code-cache name, or None if the name is not one."""
        match = _CACHE_NAME.fullmatch(name)
        if match is None:
            return None
        values = match["specialized"]
        return cls(int(match["pc"], 16), False, match["mode"] == "guards",
                   tuple(int(v) for v in values.split("_")) if values else ())


class InterruptKey(NamedTuple):
    """The code that takes interrupt ``kind`` ("irq" or "nmi") at ``pc``: run once per
    interrupt, with budget checks, never chained to."""

    kind: str
    pc: int
    single = True  # (class attributes: as a TranslationKey of one step would say)
    guards = True


Key = TranslationKey | InterruptKey


def specialized_fields(guest: GuestSpec) -> Callable[[ctypes.Structure], tuple[int, ...]]:
    """A fast function from the state to the values of the guest's specialized flags."""
    names = guest.specialize
    if not names:
        return lambda state: ()
    get = attrgetter(*names)
    return (lambda state: (get(state),)) if len(names) == 1 else get


