"""Runtime helpers as C functions that compiled code calls (PRINT, device I/O).

One ctypes callback per (guest, helper) for the whole process, registered with LLVM under the
symbol the lowering calls.  The callback acts on the machine that is running (``RUNNING``).
An exception inside a helper must not unwind through native code: it is parked on the machine,
the budget is cut to zero so the next guard leaves, and the dispatch loop raises it.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from recomp.ir.guest import MEMORY_HELPERS, Helper
from recomp.ir.types import Type

RUNNING: list[Any] = []  # the machines whose code is running, innermost last
_CALLBACKS: dict[str, Any] = {}  # symbol -> ctypes callback, alive for the process
_C_TYPES = {8: ctypes.c_uint8, 16: ctypes.c_uint16, 32: ctypes.c_uint32, 64: ctypes.c_uint64}


def _ctype(t: Type | None) -> Any:
    return None if t is None else _C_TYPES[max(8, t.bits)]


# what the memory helpers behind load and store do, on the running machine
MEMORY_FUNCTIONS: dict[str, Callable[..., int | None]] = {
    "io_read": lambda machine, addr, cycles: machine.io_read(addr, cycles),
    "io_write": lambda machine, addr, value, cycles: machine.io_write(addr, value, cycles),
    "code_write": lambda machine, addr: machine.code_write(addr),
}


def _register(symbol: str, signature: Helper, function: Callable[..., int | None]) -> None:
    import llvmlite.binding as llvm

    state = signature.state

    def callback(*args: int) -> int:
        machine = RUNNING[-1]
        try:
            return function(machine, *args[state:]) or 0
        except BaseException as error:
            machine.pending_error = error
            machine.state.limit = 0
            return 0

    prototype = ctypes.CFUNCTYPE(_ctype(signature.result), *[ctypes.c_void_p] * state,
                                 *(_ctype(t) for t in signature.args))
    _CALLBACKS[symbol] = prototype(callback)
    llvm.add_symbol(symbol, ctypes.cast(_CALLBACKS[symbol], ctypes.c_void_p).value)


def register_helpers(frontend: Any) -> None:
    """Make the frontend's helpers and the memory helpers callable from compiled code (once
    per process)."""
    from recomp.backend.lower import helper_symbol, memory_helper_symbol

    wanted = [(helper_symbol(frontend.guest.name, name), signature, frontend.helper_functions[name])
              for name, signature in frontend.guest.helpers.items()]
    wanted += [(memory_helper_symbol(name), signature, MEMORY_FUNCTIONS[name])
               for name, signature in MEMORY_HELPERS.items()]
    for symbol, signature, function in wanted:
        if symbol not in _CALLBACKS:
            _register(symbol, signature, function)
