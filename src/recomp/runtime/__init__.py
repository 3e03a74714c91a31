"""Running guest code: the machine, the translation pipeline, translations and tiers, the code
cache, the run loop (``Emulator``) and the reference engine."""

from recomp.runtime.emulator import Emulator
from recomp.runtime.errors import GuestFault, LoadError, RecompError
from recomp.runtime.options import ENGINES
from recomp.runtime.result import RunResult, Stop

__all__ = ["ENGINES", "Emulator", "GuestFault", "LoadError", "RecompError", "RunResult", "Stop"]
