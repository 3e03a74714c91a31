"""The icode verifier: structure, SSA scoping and types, checked after lifting and after every
optimization pipeline, so a broken pass is caught before it reaches LLVM or the reference engine."""

from __future__ import annotations

from recomp.ir.core import Op, Region
from recomp.ir.guest import GuestSpec
from recomp.ir.ops import operand_kinds
from recomp.ir.types import I1, I8, I16


class VerifyError(ValueError):
    """icode that breaks a rule; the message names the block and op."""


def _check_types(op: Op, guest: GuestSpec | None) -> str | None:
    """Why the op's operand or result types are wrong, or None."""
    vals = list(op.values())
    name = op.name
    spec = op.spec
    if spec.result == "arg0" and len(vals) == 2 and vals[0].type != vals[1].type:
        return "operands differ in type"
    if spec.result == "i1" and len(vals) == 2 and vals[0].type != vals[1].type:
        return "operands differ in type"
    if name == "select" and (vals[0].type != I1 or vals[1].type != vals[2].type):
        return "select needs an i1 and two values of one type"
    if name in ("cbr", "setflag", "exit_if", "trap_if") and vals[0].type != I1:
        return f"{name} needs an i1"
    if name in ("zext", "sext") and op.result.type.bits <= vals[0].type.bits:
        return f"{name} must widen"
    if name == "trunc" and op.result.type.bits >= vals[0].type.bits:
        return "trunc must narrow"
    if name == "load" and op.result.type not in (I8, I16):
        return "load gives i8 or i16"
    if name == "fetch" and op.result.type != I8:
        return "fetch gives i8"
    if name == "store" and vals[1].type not in (I8, I16):
        return "store takes i8 or i16"
    if name == "const" and not 0 <= op.args[0] <= op.result.type.mask:
        return "constant does not fit its type"
    if guest is None:
        return None
    if not guest.has_cycles and (name == "cycles" or (name in ("insn", "guard", "settle") and op.args[1])):
        return f"{guest.name} counts no cycles"
    if name in ("getreg", "setreg"):
        reg_type = guest.registers.get(op.args[0])
        if reg_type is None:
            return f"no register {op.args[0]} in {guest.name}"
        actual = op.result.type if name == "getreg" else vals[0].type
        if actual != reg_type:
            return f"register {op.args[0]} is {reg_type}"
    if name in ("getflag", "setflag") and op.args[0] not in guest.flags:
        return f"no flag {op.args[0]} in {guest.name}"
    if name == "defer":
        field = op.args[0]
        field_type = I1 if field in guest.flags else guest.registers.get(field)
        if field_type is None:
            return f"no register or flag {field} in {guest.name}"
        if vals[0].type != field_type:
            return f"{field} is {field_type}"
    if name == "call":
        helper = guest.helpers.get(op.args[0])
        if helper is None:
            return f"no helper {op.args[0]}"
        if tuple(v.type for v in vals) != helper.args:
            return f"helper {op.args[0]} takes {', '.join(map(str, helper.args))}"
        if (op.result.type if op.result else None) != helper.result:
            return f"helper {op.args[0]} returns {helper.result}"
    return None


def verify(region: Region, guest: GuestSpec | None = None) -> None:
    """Raise VerifyError if the region breaks a rule of ir/SPEC.md."""
    if not region.blocks:
        raise VerifyError("region has no blocks")
    labels = [b.label for b in region.blocks]
    if len(set(labels)) != len(labels):
        raise VerifyError("duplicate block labels")
    defined_anywhere: set[int] = set()
    for block in region.blocks:
        where = f"block {block.label}"
        if not block.ops or not block.ops[-1].spec.terminator:
            raise VerifyError(f"{where}: does not end in a terminator")
        local: set[int] = set()
        for index, op in enumerate(block.ops):
            at = f"{where}, op {index} ({op.name})"
            if op.spec.terminator and index != len(block.ops) - 1:
                raise VerifyError(f"{at}: terminator before the end of the block")
            for value in op.values():
                if value.id not in local:
                    raise VerifyError(f"{at}: {value} is not defined earlier in this block")
            for arg, kind in zip(op.args, operand_kinds(op.spec, len(op.args))):
                if kind == "b" and arg not in labels:
                    raise VerifyError(f"{at}: no block {arg}")
            problem = _check_types(op, guest)
            if problem:
                raise VerifyError(f"{at}: {problem}")
            if op.result is not None:
                if op.result.id in defined_anywhere:
                    raise VerifyError(f"{at}: {op.result} is defined twice")
                defined_anywhere.add(op.result.id)
                local.add(op.result.id)
            if op.spec.result is not None and op.result is None and op.name != "call":
                raise VerifyError(f"{at}: result missing")
    if guest is not None and region.guest != guest.name:
        raise VerifyError(f"region is for {region.guest}, not {guest.name}")

