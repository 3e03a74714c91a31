"""A machine's helper functions (device I/O, stores into code, the guest's own such as TST27's
PRINT) as C callbacks in a table compiled code calls through: the state field ``helpers`` holds
its address, so each machine's compiled code reaches that machine's helpers, and no process-wide
symbol or "running machine" is needed (QEMU's helpers likewise receive their CPU's ``env``).

An exception inside a helper must not unwind through native code: it is handed to ``park``
(the machine keeps it and cuts the budget, so the next guard leaves, and the run loop raises it).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence

from recomp.ir.guest import Helper
from recomp.ir.types import Type

_C_TYPES = {8: ctypes.c_uint8, 16: ctypes.c_uint16, 32: ctypes.c_uint32, 64: ctypes.c_uint64}


class HelperTable:
    """Functions of the given signatures (``GuestSpec.helper_slots`` order) as C function
    pointers; ``address`` is the table's."""

    def __init__(self, signatures: Sequence[Helper], functions: Sequence[Callable[..., int | None]],
                 park: Callable[[BaseException], None]) -> None:
        self._callbacks = [_callback(function, signature, park) for function, signature in zip(functions, signatures)]
        self._table = (ctypes.c_void_p * max(1, len(self._callbacks)))(
            *(ctypes.cast(c, ctypes.c_void_p).value for c in self._callbacks))
        self.address = ctypes.addressof(self._table)


def _ctype(t: Type | None) -> type | None:
    return None if t is None else _C_TYPES[max(8, t.bits)]


def _callback(function: Callable[..., int | None], signature: Helper, park: Callable[[BaseException], None]
              ) -> ctypes._CFuncPtr:
    def callback(*args: int) -> int:
        try:
            result = function(*args)
            return 0 if result is None else int(result)  # converted here: ctypes would swallow an error
        except BaseException as error:
            park(error)
            return 0

    prototype = ctypes.CFUNCTYPE(_ctype(signature.result), *(_ctype(t) for t in signature.args))
    return prototype(callback)
