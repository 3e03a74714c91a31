"""icode: op table coverage, text round trip, parser and verifier errors."""

from __future__ import annotations

import pytest

from conftest import EXAMPLES
from recomp.backend.lower import LOWER
from recomp.frontends.tst27 import GUEST, assemble
from recomp.ir import OPS, ParseError, VerifyError, format_region, parse, verify
from recomp.ir.core import Builder, Region
from recomp.ir.types import I1, I8, I16, I32
from recomp.opt.fold import _FOLDABLE
from recomp.runtime import Emulator
from recomp.runtime.interp import _STEPS

SPEC = (EXAMPLES.parent / "ir" / "SPEC.md").read_text()


def test_every_op_has_interpreter_lowering_and_spec():
    assert set(_STEPS) == set(OPS)
    assert set(LOWER) == set(OPS)
    for name in OPS:
        assert f"| `{name}` |" in SPEC, f"{name} is not specified in ir/SPEC.md"


def test_foldable_ops_are_pure():
    assert all(OPS[name].pure for name in _FOLDABLE)


@pytest.mark.parametrize("name", ["test1", "test2"])
def test_lifted_demo_round_trips(name):
    emu = Emulator("tst27", engine="interp")
    emu.load(assemble((EXAMPLES / "tst27" / f"{name}.s").read_text()))
    text = format_region(emu.lift(0))
    region = parse(text)
    verify(region, GUEST)
    assert format_region(region) == text


def build_sample() -> Region:
    region = Region("tst27", 0x10)
    b = Builder(region)
    b.new_block("L0010", 0x10)
    b.guard(1, 0)
    b.insn(0x10, 0, comment="sample; with a semicolon")
    x = b.const(I32, 0xFFFFFFFF)
    y = b.getreg("r3", type=I32)
    low = b.trunc(b.add(x, y), type=I8)
    wide = b.zext(low, type=I16)
    b.store(b.const(I16, 0x123), wide)
    c = b.slt(x, y)
    b.setreg("r4", b.select(c, x, y))
    b.cbr(c, "L0010", "X0020")
    b.new_block("X0020", 0x20)
    b.exit(0x20)
    return region


def test_built_region_round_trips_and_verifies():
    region = build_sample()
    verify(region, GUEST)
    text = format_region(region)
    assert "; sample; with a semicolon" in text
    assert format_region(parse(text)) == text


@pytest.mark.parametrize("text, message", [
    ("", "no region"),
    ("blah", "expected 'region"),
    ("region tst27 @0x0\n  guard 1\n", "op outside a block"),
    ("region tst27 @0x0\nL0 @0x0:\n  frob 1\n", "unknown op"),
    ("region tst27 @0x0\nL0 @0x0:\n  %0:i9 = const 1\n", "unknown type"),
    ("region tst27 @0x0\nL0 @0x0:\n  %1:i32 = add %0, %0\n", "used before it is defined"),
    ("region tst27 @0x0\nL0 @0x0:\n  guard 1, 2, 3\n", "takes 2 operands"),
    ("region tst27 @0x0\nL0 @0x0:\n  guard x, 1\n", "expected an integer"),
    ("region tst27 @0x0\nL0 @0x0:\n  %0:i32 = const 1\n  %0:i32 = const 2\n", "defined twice"),
    ("region tst27 @0x0\nL0 @0x0:\n  %0:i32 = const 1\n  %1:i8 = add %0, %0\n", "gives i32"),
    ("region tst27 @0x0\nL0 @0x0:\n  %0:i32 = const 1\n  %1:i32 = setreg r0, %0\n", "has no result"),
    ("region tst27 @0x0\nL0 @0x0:\n  getreg r0\n", "needs a result"),
])
def test_parse_errors_name_the_problem(text, message):
    with pytest.raises(ParseError, match=message):
        parse(text)


def region_of(body: str) -> Region:
    return parse("region tst27 @0x0\nL0 @0x0:\n" + body)


@pytest.mark.parametrize("body, message", [
    ("  guard 1, 0\n", "does not end in a terminator"),
    ("  exit 0x1\n  exit 0x2\n", "terminator before the end"),
    ("  br L9\n", "no block L9"),
    ("  %0:i32 = const 1\n  %1:i8 = const 1\n  %2:i32 = add %0, %1\n  exit 0x0\n", "differ in type"),
    ("  %0:i32 = const 1\n  cbr %0, L0, L0\n", "needs an i1"),
    ("  %0:i32 = const 1\n  %1:i8 = zext %0\n  exit 0x0\n", "must widen"),
    ("  %0:i8 = const 1\n  %1:i32 = trunc %0\n  exit 0x0\n", "must narrow"),
    ("  %0:i32 = const 1\n  %1:i32 = load %0\n  exit 0x0\n", "load gives"),
    ("  %0:i8 = const 0x100\n  exit 0x0\n", "does not fit"),
    ("  %0:i32 = getreg r40\n  exit 0x0\n", "no register r40"),
    ("  %0:i8 = getreg r1\n  exit 0x0\n", "register r1 is i32"),
    ("  %0:i1 = getflag Q\n  exit 0x0\n", "no flag Q"),
    ("  call beep\n  exit 0x0\n", "no helper beep"),
    ("  %0:i8 = const 1\n  call print, %0, %0\n  exit 0x0\n", "helper print takes"),
])
def test_verifier_rejects(body, message):
    with pytest.raises(VerifyError, match=message):
        verify(region_of(body), GUEST)


def test_verifier_rejects_cross_block_values():
    text = ("region tst27 @0x0\nL0 @0x0:\n  %0:i1 = const 1\n  br L1\n"
            "L1 @0x1:\n  cbr %0, L0, L1\n")
    with pytest.raises(VerifyError, match="not defined earlier in this block"):
        verify(parse(text.replace("cbr %0", "cbr %0")), GUEST)


def test_types():
    assert I1.mask == 1 and I32.name == "i32"
