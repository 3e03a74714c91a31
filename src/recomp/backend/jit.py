"""MCJIT: one target machine and one execution engine for the process, kept alive as long as the
process (compiled code may run until exit), an LLVM pass pipeline, and host disassembly.

llvmlite's ``create_mcjit_compiler`` takes ownership of the target machine, so it is never shared
with a second engine (a shared one segfaults once that engine is collected).
"""

from __future__ import annotations

import ctypes
import secrets
import struct
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import llvmlite.binding as llvm
from llvmlite import ir as ll

from recomp.backend.lower import lower
from recomp.ir.core import Region
from recomp.ir.guest import GuestSpec

if TYPE_CHECKING:
    from recomp.backend.cache import CodeCache

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
    object: bytes  # the object file, for the code cache


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
        self._loaded: dict[str, Compiled] = {}  # symbol -> code loaded from the code cache
        self._interpreters: dict[tuple[str, bool], Compiled] = {}  # (guest, stops) -> native interpreter

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
        start = time.perf_counter()
        module, name = self.build_module(region, guest, guards, chain)
        return self._add(module, name, start)

    def _add(self, module: llvm.ModuleRef, name: str, start: float) -> Compiled:
        """Generate the module's code; its function ``name`` is the entry point."""
        optimized = str(module)
        self.engine.add_module(module)
        self.engine.finalize_object()
        address = self.engine.get_function_address(name)
        return Compiled(REGION_FUNCTION(address), address, name, optimized,
                        time.perf_counter() - start, module, self._objects.pop(module.name, b""))

    def interpreter(self, frontend: Any, code_cache: CodeCache | None = None, stops: bool = False) -> Compiled:
        """The frontend's native interpreter (see ``recomp.backend.interpreter``): compiled once
        per process, and kept in the code cache if there is one."""
        key = (frontend.guest.name, stops)
        if key not in self._interpreters:
            self._interpreters[key] = self._make_interpreter(frontend, code_cache, stops)
        return self._interpreters[key]

    def _make_interpreter(self, frontend: Any, code_cache: CodeCache | None, stops: bool) -> Compiled:
        from recomp.backend.cache import Record, digest, source_digest
        from recomp.backend.interpreter import HOT, lift_opcodes, lower_interpreter

        guest = frontend.guest
        context = digest(source_digest(), self.context, guest.name, HOT)
        entry = "interpreter-stops" if stops else "interpreter"
        record = code_cache.find(context, entry, b"") if code_cache is not None else None
        if record is not None:
            compiled = self.load(record.name, record.object)
        else:
            start = time.perf_counter()
            module, name = self._new_module(f"{guest.name}_interpreter")
            lower_interpreter(frontend, lift_opcodes(frontend), module, name, stops)
            parsed = _parse(module)
            self._cheap_pipeline(parsed)
            compiled = self._add(parsed, name, start)
            if code_cache is not None:
                code_cache.store(context, entry, Record(name, {}, compiled.object))
        return compiled

    def load(self, name: str, data: bytes) -> Compiled:
        """Code from the code cache: the object file of a region compiled earlier, whose entry
        point is ``name``; raises ValueError if it is not there."""
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

    def host_code(self, compiled: Compiled) -> bytes:
        """The machine code of a compiled region, as it sits in memory."""
        text_size = _text_size(self._pass_machine.emit_object(llvm.parse_assembly(compiled.optimized_ir)))
        return ctypes.string_at(compiled.address, text_size)

    def disassemble(self, compiled: Compiled) -> list[tuple[int, str, str]]:
        """The region's host code as x86-64 assembly: (address, mnemonic, operands)."""
        return disassemble_host(self.host_code(compiled), compiled.address)


def _parse(module: ll.Module) -> llvm.ModuleRef:
    parsed = llvm.parse_assembly(str(module))
    parsed.verify()
    return parsed


def _text_size(elf: bytes) -> int:
    """Size of the code section of an ELF64 little-endian object (the region's only function):
    ``.text``, or ``.ltext`` under the large code model JIT target machines use."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    names_offset, = struct.unpack_from("<Q", elf, shoff + shstrndx * shentsize + 0x18)
    for i in range(shnum):
        header = shoff + i * shentsize
        name_index, = struct.unpack_from("<I", elf, header)
        name = elf[names_offset + name_index:elf.index(b"\0", names_offset + name_index)]
        size = struct.unpack_from("<Q", elf, header + 0x20)[0]
        if name in (b".text", b".ltext") and size:
            return size
    raise ValueError("object has no code section")


def disassemble_host(code: bytes, address: int) -> list[tuple[int, str, str]]:
    """x86-64 disassembly with capstone: (address, mnemonic, operands) per instruction."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    return [(i.address, i.mnemonic, i.op_str) for i in md.disasm(code, address)]


@cache
def jit() -> Jit:
    """The process's JIT."""
    return Jit()
