"""Running guest code: machine state, translation cache, dispatch, engines."""

from recomp.runtime.emulator import ENGINES, Emulator, RunResult
from recomp.runtime.errors import GuestFault, LoadError, RecompError

__all__ = ["ENGINES", "Emulator", "GuestFault", "LoadError", "RecompError", "RunResult"]
