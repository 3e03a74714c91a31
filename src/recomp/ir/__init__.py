"""icode: recomp's typed intermediate representation (specification: ir/SPEC.md)."""

from recomp.ir.core import Block, Builder, Op, Region, Value
from recomp.ir.guest import COMMON_FIELDS, GuestSpec, Helper
from recomp.ir.ops import OPS, Exit, OpSpec
from recomp.ir.text import ParseError, format_region, parse
from recomp.ir.types import I1, I8, I16, I32, I64, TYPES, Type
from recomp.ir.verify import VerifyError, verify

__all__ = [
    "COMMON_FIELDS",
    "I1",
    "I8",
    "I16",
    "I32",
    "I64",
    "OPS",
    "TYPES",
    "Block",
    "Builder",
    "Exit",
    "GuestSpec",
    "Helper",
    "Op",
    "OpSpec",
    "ParseError",
    "Region",
    "Type",
    "Value",
    "VerifyError",
    "format_region",
    "parse",
    "verify",
]
