"""MCJIT and the LLVM pass pipelines: the process's JIT compiles what it is handed (and links
object files it made earlier where ``recomp.backend.loader`` cannot); what to keep on disk is
the runtime's business.

Compiled code lives in *arenas*: MCJIT execution engines of ``ARENA_FUNCTIONS`` functions each.
An engine frees its code (and the modules it keeps) only when it is disposed of, so each
``Compiled`` keeps its arena alive, and an arena whose functions are all gone (dropped by
self-modifying code, say) is disposed of with them: however long a program rewrites its code,
the JIT's memory stays bounded.  Code the process keeps for good (the native interpreter and
the SIGINT handler, on hosts ``recomp.backend.loader`` does not serve) goes to an arena of its
own, whose context also parses the modules made into object files only.  An engine costs
about 0.3 ms and 0.8 MB, so functions share one.

One lock serializes the JIT's work: regions are compiled on a thread of their own
(``recomp.runtime.background``) while the run loop may load code from the code cache.

llvmlite's ``create_mcjit_compiler`` takes ownership of the target machine, so each engine gets
its own (a shared one segfaults once that engine is collected).
"""

from __future__ import annotations

import secrets
import threading
import time

import llvmlite.binding as llvm
from llvmlite import ir as ll

from recomp.backend.cfg import loop_targets
from recomp.backend.compiled import REGION_FUNCTION, Compiled
from recomp.backend.lower import lower
from recomp.backend.native_interpreter import lower_interpreter
from recomp.backend.signals import lower_interrupt_handler
from recomp.backend.stencils import ENTER, lower_stencils, stencil_ir
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
ARENA_FUNCTIONS = 64  # compiled functions per execution engine

class Arena:
    """An execution engine with its own target machine and LLVM context (the modules of its
    code are parsed into it, so the constants and types LLVM interns for them go with it too);
    its code lives as long as it does."""

    def __init__(self, target: llvm.Target, cpu: str, features: str, emitted: object,
                 lock: threading.RLock) -> None:
        machine = target.create_target_machine(cpu=cpu, features=features, opt=CODEGEN_LEVEL, jit=True)
        self.context = llvm.create_context()
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly("", self.context), machine)
        self.engine.set_object_cache(emitted)
        self.functions = 0
        self.lock = lock  # the JIT's: an arena goes (on whichever thread drops it) while no other code is made

    def __del__(self) -> None:
        with self.lock:
            self.engine.close()  # (before the context its modules live in)
            self.context.close()

    def parse(self, module: ll.Module) -> llvm.ModuleRef:
        """A module of IR, parsed into this arena's context and verified."""
        parsed = llvm.parse_assembly(str(module), self.context)
        parsed.verify()
        return parsed

    def add(self, code: llvm.ModuleRef | llvm.ObjectFileRef, name: str) -> int:
        """Link a module or object file in; the address of its function ``name`` (0 if none)."""
        if isinstance(code, llvm.ModuleRef):
            self.engine.add_module(code)
        else:
            self.engine.add_object_file(code)
        self.engine.finalize_object()
        self.functions += 1
        return self.engine.get_function_address(name)


class Jit:
    def __init__(self) -> None:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        llvm.initialize_native_asmparser()  # (the inline assembly of inspection's markers)
        self.triple = llvm.get_process_triple()
        target = llvm.Target.from_triple(self.triple)
        self.cpu = llvm.get_host_cpu_name()
        self.features = llvm.get_host_cpu_features().flatten()
        self._target = target
        # passes and the data layout use a machine no engine owns
        self._pass_machine = target.create_target_machine(
            cpu=self.cpu, features=self.features, opt=CODEGEN_LEVEL, jit=True)
        self.lock = threading.RLock()  # held by every method that makes, loads or frees code
        self._arena: Arena | None = None  # the one new code goes to
        self._permanent = self._new_arena()  # for code the process keeps
        self._pto = llvm.create_pipeline_tuning_options(speed_level=SPEED_LEVEL)
        self._count = 0
        # symbols are unique across processes too: objects from the code cache join this engine
        self._prefix = secrets.token_hex(4)
        self._objects: dict[str, bytes] = {}  # module name -> its object file, as MCJIT emits it

    def _object_emitted(self, module: llvm.ModuleRef, data: bytes) -> None:
        self._objects[module.name] = bytes(data)

    def _new_arena(self) -> Arena:
        return Arena(self._target, self.cpu, self.features, self._object_emitted, self.lock)

    def _current_arena(self) -> Arena:
        if self._arena is None or self._arena.functions >= ARENA_FUNCTIONS:
            self._arena = self._new_arena()
        return self._arena

    @property
    def context(self) -> tuple:
        """What, besides the icode, decides the code this JIT makes (for the code cache)."""
        return (llvm.llvm_version_info, self.triple, self.cpu, self.features, SPEED_LEVEL, O2_MAX_OPS,
                CHEAP_PASSES, CODEGEN_LEVEL)

    def build_module(self, region: Region, guest: GuestSpec, guards: bool, chain: bool = True,
                     arena: Arena | None = None, markers: bool = False, trace: bool = False,
                     quiet: frozenset[int] = frozenset()) -> tuple[llvm.ModuleRef, str]:
        """Lower and optimize a region into a module of its own (for ``arena``, by default the
        current one); returns it and its function name."""
        module, name = self._new_module(f"{guest.name}_{region.entry:04x}")
        lower(region, guest, module, guards=guards, chain=chain, name=name, markers=markers, trace=trace, quiet=quiet)
        parsed = (arena or self._current_arena()).parse(module)
        if sum(len(block.ops) for block in region.blocks) <= O2_MAX_OPS:
            builder = self._pass_builder()
            builder.getModulePassManager().run(parsed, builder)
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
        module.data_layout = str(self._pass_machine.target_data)
        return module, name

    def _pass_builder(self) -> llvm.PassBuilder:
        """A pass builder for one module: llvmlite registers instrumentation callbacks on the
        builder at every run and never removes them, so a builder used for many modules slows
        down from run to run (and keeps callbacks to instrumentation that no longer exists)."""
        return llvm.create_pass_builder(self._pass_machine, self._pto)

    def _cheap_pipeline(self, module: llvm.ModuleRef) -> None:
        builder = self._pass_builder()
        inline = llvm.create_new_module_pass_manager()
        inline.add_always_inliner_pass()
        inline.run(module, builder)
        passes = llvm.create_new_function_pass_manager()
        for name in CHEAP_PASSES:
            getattr(passes, f"add_{name}_pass")()
        for function in module.functions:
            if not function.is_declaration:
                passes.run(function, builder)

    def compile(self, region: Region, guest: GuestSpec, guards: bool = True, chain: bool = True,
                keep_ir: bool = False, markers: bool = False, trace: bool = False,
                quiet: frozenset[int] = frozenset()) -> Compiled:
        """Compile a region; ``guards=False`` (no budget, no interrupts: a guard can never fire)
        drops the budget checks.  The guards of loop heads read the budget afresh, so that
        Ctrl-C, which cuts it, stops a loop.  Without budget checks, a loop that LLVM's
        optimizations leave would never stop (TST27's counting loops are computed in closed
        form, which a check would prevent): such a region is compiled again with them.  ``trace``:
        with a trace record before each instruction; ``quiet``: pages whose bytes have no
        attributes (``recomp.backend.lower.quiet_pages``)."""
        with self.lock:
            start = time.perf_counter()
            arena = self._current_arena()
            module, name = self.build_module(region, guest, guards, chain, arena, markers, trace, quiet)
            if not guards and loops(module.get_function(name)):
                module, name = self.build_module(region, guest, True, chain, arena, markers, trace, quiet)
            compiled = self._add(module, name, start, arena, keep_ir)
            compiled.quiet = quiet
            return compiled

    def _add(self, module: llvm.ModuleRef, name: str, start: float, arena: Arena, keep_ir: bool = False
             ) -> Compiled:
        """Generate the module's code in ``arena`` (whose context it was parsed into); its
        function ``name`` is the entry point; ``keep_ir``: keep the optimized IR's text."""
        optimized = str(module) if keep_ir else ""
        address = arena.add(module, name)
        return Compiled(REGION_FUNCTION(address), address, name, optimized, time.perf_counter() - start, arena,
                        self._objects.pop(module.name, b""))

    def native_interpreter(self, lifts: OpcodeLifts, guest: GuestSpec, stops: bool = False,
                           trace: bool = False) -> tuple[str, bytes]:
        """A native interpreter of the guest's opcodes (``recomp.backend.native_interpreter``):
        its function's name and its object file, to link."""
        with self.lock:
            module, name = self._new_module(f"{guest.name}_interpreter")
            lower_interpreter(lifts, guest, module, name, stops, trace)
            parsed = self._permanent.parse(module)
            self._cheap_pipeline(parsed)
            return name, self._pass_machine.emit_object(parsed)

    def stencils(self, lifts: OpcodeLifts, guest: GuestSpec) -> tuple[str, bytes]:
        """The baseline compiler's stencils (``recomp.backend.stencils``): the name of the
        region entry among them, and their object file (small code model, static relocation)."""
        with self.lock:
            module, _ = self._new_module(f"{guest.name}_stencils")
            registers = lower_stencils(lifts, guest, module)
            parsed = llvm.parse_assembly(stencil_ir(module, guest, registers))
            builder = self._pass_builder()
            builder.getModulePassManager().run(parsed, builder)
            machine = self._target.create_target_machine(cpu=self.cpu, features=self.features, opt=2,
                                                         reloc="static", codemodel="small")
            return ENTER, machine.emit_object(parsed)

    def interrupt_handler(self, symbols: dict[str, str]) -> tuple[str, bytes]:
        """A native SIGINT handler (``recomp.backend.signals``) whose tables and offsets are the
        values of ``symbols``: its function's name and its object file, to link with them."""
        with self.lock:
            module, name = self._new_module("sigint")
            lower_interrupt_handler(module, name, symbols)
            return name, self._pass_machine.emit_object(self._permanent.parse(module))

    def load(self, name: str, data: bytes, keep: bool = False, externals: dict[str, int] | None = None
             ) -> Compiled:
        """Code compiled earlier (by this JIT, in this process or another), from its object
        file; its entry point is ``name`` (``keep``: the process keeps it for good), the symbols
        it leaves undefined are ``externals``.  Raises ValueError if it is not there."""
        with self.lock:
            for symbol, value in (externals or {}).items():
                llvm.add_symbol(symbol, value)
            start = time.perf_counter()
            arena = self._permanent if keep else self._current_arena()
            address = arena.add(llvm.ObjectFileRef.from_data(data), name)
            if not address:
                raise ValueError(f"the cached object does not define {name}")
            return Compiled(REGION_FUNCTION(address), address, name, "", time.perf_counter() - start, arena, data)


def loops(function: llvm.ValueRef) -> bool:
    """Whether the function's control flow has a cycle."""
    successors = {block: [v for v in list(block.instructions)[-1].operands
                          if v.value_kind == llvm.ValueKind.basic_block] for block in function.blocks}
    return bool(loop_targets(successors, successors))


_JIT_LOCK = threading.Lock()
_JIT: list[Jit] = []  # the process's JIT, once made


def jit_made() -> bool:
    """Whether the process has made its JIT yet (LLVM's start-up is paid then)."""
    return bool(_JIT)


def jit() -> Jit:
    """The process's JIT (made once, whichever thread asks first)."""
    if not _JIT:
        with _JIT_LOCK:
            if not _JIT:
                _JIT.append(Jit())
    return _JIT[0]
