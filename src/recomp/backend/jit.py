"""MCJIT: one target machine and one execution engine for the process, kept alive as long as the
process (compiled code may run until exit), and the LLVM pass pipelines.  It compiles what it is
handed and loads object files it made earlier; what to keep on disk is the runtime's business.

llvmlite's ``create_mcjit_compiler`` takes ownership of the target machine, so it is never shared
with a second engine (a shared one segfaults once that engine is collected).
"""

from __future__ import annotations

import ctypes
import secrets
import time
from dataclasses import dataclass
from functools import cache

import llvmlite.binding as llvm
from llvmlite import ir as ll

from recomp.backend.lower import lower
from recomp.backend.native_interpreter import lower_interpreter
from recomp.backend.signals import lower_interrupt_handler
from recomp.ir.core import Region
from recomp.ir.guest import GuestSpec
from recomp.ir.opcodes import OpcodeLifts

# Small regions get LLVM's O2 pipeline: its scalar evolution turns counting loops into closed
# form (TST27's loops cost no run time).  O2 costs about 0.25 ms per optimized icode op with this
# LLVM (built with assertions), so larger regions get a short pipeline at a third of the cost:
# inline the memory accessors, registers to SSA, combine, simplify, clean up.  On the 6502
# kernels of benchmarks/6502, O2 beyond 150 ops doubled LLVM's time and gained 3 % of run time.
SPEED_LEVEL = 2
O2_MAX_OPS = 150
CHEAP_PASSES = ("sroa", "instruction_combine", "simplify_cfg", "dead_code_elimination")
CODEGEN_LEVEL = 1

# (state, memory, attrs, entries) -> Exit; see recomp.backend.lower
REGION_FUNCTION = ctypes.CFUNCTYPE(ctypes.c_int32, *[ctypes.c_void_p] * 4)


@dataclass
class Compiled:
    """A compiled region: its entry point and what it took to make it."""

    function: ctypes._CFuncPtr
    address: int
    name: str
    optimized_ir: str  # empty for code loaded from the code cache
    seconds: float
    module: llvm.ModuleRef | None  # kept: the engine owns the code, this keeps its module alive
    object: bytes  # the object file MCJIT made (for the code cache, and to find the code's size)


class Jit:
    def __init__(self) -> None:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        self.triple = llvm.get_process_triple()
        target = llvm.Target.from_triple(self.triple)
        self.cpu = llvm.get_host_cpu_name()
        self.features = llvm.get_host_cpu_features().flatten()
        self.target_machine = target.create_target_machine(
            cpu=self.cpu, features=self.features, opt=CODEGEN_LEVEL, jit=True)
        # the engine owns this one; passes use a second, never given to an engine
        self._pass_machine = target.create_target_machine(
            cpu=self.cpu, features=self.features, opt=CODEGEN_LEVEL, jit=True)
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), self.target_machine)
        self._pto = llvm.create_pipeline_tuning_options(speed_level=SPEED_LEVEL)
        self._pass_builder = llvm.create_pass_builder(self._pass_machine, self._pto)
        self._count = 0
        # symbols are unique across processes too: objects from the code cache join this engine
        self._prefix = secrets.token_hex(4)
        self._objects: dict[str, bytes] = {}  # module name -> its object file, as MCJIT emits it
        self.engine.set_object_cache(self._object_emitted)
        self._loaded: dict[str, Compiled] = {}  # symbol -> code loaded from an object file

    def _object_emitted(self, module: llvm.ModuleRef, data: bytes) -> None:
        self._objects[module.name] = bytes(data)

    @property
    def context(self) -> tuple:
        """What, besides the icode, decides the code this JIT makes (for the code cache)."""
        return (llvm.llvm_version_info, self.triple, self.cpu, self.features, SPEED_LEVEL, O2_MAX_OPS,
                CHEAP_PASSES, CODEGEN_LEVEL)

    def build_module(self, region: Region, guest: GuestSpec, guards: bool, chain: bool = True
                     ) -> tuple[llvm.ModuleRef, str]:
        """Lower and optimize a region into a module of its own; returns it and its function name."""
        module, name = self._new_module(f"{guest.name}_{region.entry:04x}")
        lower(region, guest, module, guards=guards, chain=chain, name=name)
        parsed = _parse(module)
        if sum(len(block.ops) for block in region.blocks) <= O2_MAX_OPS:
            self._pass_builder.getModulePassManager().run(parsed, self._pass_builder)
        else:
            self._cheap_pipeline(parsed)
        return parsed, name

    def _new_module(self, label: str) -> tuple[ll.Module, str]:
        """An empty module for this engine, and a symbol for its function that no other module
        of this process, or of the code cache, has."""
        self._count += 1
        name = f"{label}_{self._prefix}_{self._count}"
        module = ll.Module(name=name)
        module.triple = self.triple
        module.data_layout = str(self.target_machine.target_data)
        return module, name

    def _cheap_pipeline(self, module: llvm.ModuleRef) -> None:
        inline = llvm.create_new_module_pass_manager()
        inline.add_always_inliner_pass()
        inline.run(module, self._pass_builder)
        passes = llvm.create_new_function_pass_manager()
        for name in CHEAP_PASSES:
            getattr(passes, f"add_{name}_pass")()
        for function in module.functions:
            if not function.is_declaration:
                passes.run(function, self._pass_builder)

    def compile(self, region: Region, guest: GuestSpec, guards: bool = True, chain: bool = True) -> Compiled:
        """Compile a region; ``guards=False`` (no budget, no interrupts: a guard can never fire)
        drops the budget checks.  The guards of loop heads read the budget afresh, so that
        Ctrl-C, which cuts it, stops a loop.  Without budget checks, a loop that LLVM's
        optimizations leave would never stop (TST27's counting loops are computed in closed
        form, which a check would prevent): such a region is compiled again with them."""
        start = time.perf_counter()
        module, name = self.build_module(region, guest, guards, chain)
        if not guards and loops(module.get_function(name)):
            module, name = self.build_module(region, guest, True, chain)
        return self._add(module, name, start)

    def _add(self, module: llvm.ModuleRef, name: str, start: float) -> Compiled:
        """Generate the module's code; its function ``name`` is the entry point."""
        optimized = str(module)
        self.engine.add_module(module)
        self.engine.finalize_object()
        address = self.engine.get_function_address(name)
        return Compiled(REGION_FUNCTION(address), address, name, optimized,
                        time.perf_counter() - start, module, self._objects.pop(module.name, b""))

    def native_interpreter(self, lifts: OpcodeLifts, guest: GuestSpec, hot: int, stops: bool = False) -> Compiled:
        """A native interpreter of the guest's opcodes (``recomp.backend.native_interpreter``)."""
        start = time.perf_counter()
        module, name = self._new_module(f"{guest.name}_interpreter")
        lower_interpreter(lifts, guest, module, name, hot, stops)
        parsed = _parse(module)
        self._cheap_pipeline(parsed)
        return self._add(parsed, name, start)

    def interrupt_handler(self, slots: int, count: int, busy: int, previous: int, offsets: dict[str, int]) -> int:
        """The address of a native SIGINT handler (``recomp.backend.signals``) for these tables."""
        module, name = self._new_module("sigint")
        lower_interrupt_handler(module, name, slots, count, busy, previous, offsets)
        return self._add(_parse(module), name, time.perf_counter()).address

    def load(self, name: str, data: bytes) -> Compiled:
        """Code compiled earlier (by this JIT, in this process or another), from its object
        file; its entry point is ``name``.  Raises ValueError if it is not there."""
        if name in self._loaded:
            return self._loaded[name]
        start = time.perf_counter()
        self.engine.add_object_file(llvm.ObjectFileRef.from_data(data))
        self.engine.finalize_object()
        address = self.engine.get_function_address(name)
        if not address:
            raise ValueError(f"the cached object does not define {name}")
        compiled = Compiled(REGION_FUNCTION(address), address, name, "", time.perf_counter() - start, None, data)
        self._loaded[name] = compiled
        return compiled


def loops(function: llvm.ValueRef) -> bool:
    """Whether the function's control flow has a cycle (depth-first search for a back edge)."""
    successors = {block: [v for v in list(block.instructions)[-1].operands
                          if v.value_kind == llvm.ValueKind.basic_block] for block in function.blocks}
    state: dict[llvm.ValueRef, int] = {}  # 1: on the path being searched, 2: done
    for root in successors:
        stack = [(root, iter(successors[root]))]
        if root in state:
            continue
        state[root] = 1
        while stack:
            block, following = stack[-1]
            target = next(following, None)
            if target is None:
                state[block] = 2
                stack.pop()
            elif state.get(target) == 1:
                return True
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(successors[target])))
    return False


def _parse(module: ll.Module) -> llvm.ModuleRef:
    parsed = llvm.parse_assembly(str(module))
    parsed.verify()
    return parsed


@cache
def jit() -> Jit:
    """The process's JIT."""
    return Jit()
