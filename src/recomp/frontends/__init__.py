"""Guest CPUs: each frontend decodes its machine code and lifts it to icode."""

from __future__ import annotations

from importlib import import_module

from recomp.frontends.base import DecodeError, Frontend, Insn

# frontend name -> "module:class", imported on first use
FRONTENDS = {
    "6502": "recomp.frontends.mos6502:Mos6502",
    "6502-documented": "recomp.frontends.mos6502:Mos6502Documented",
    "65c02": "recomp.frontends.mos6502:Wdc65C02",
    "tst27": "recomp.frontends.tst27:Tst27",
}


DEFAULT_CPU = "6502"  # the NMOS 6502, every opcode


class UnknownFrontend(ValueError):
    pass


def get_frontend(name: str) -> Frontend:
    target = FRONTENDS.get(name)
    if target is None:
        raise UnknownFrontend(f"unknown CPU {name!r} (choose from {', '.join(FRONTENDS)})")
    module, cls = target.split(":")
    return getattr(import_module(module), cls)()


__all__ = ["DEFAULT_CPU", "FRONTENDS", "DecodeError", "Frontend", "Insn", "UnknownFrontend", "get_frontend"]
