"""icode: op table coverage, text round trip, parser and verifier errors."""

from __future__ import annotations

import io
import re

import pytest

from conftest import EXAMPLES
from recomp.backend.lower import LOWER
from recomp.frontends.tst27 import GUEST, assemble
from recomp.ir import OPS, ParseError, VerifyError, format_region, parse, verify
from recomp.ir.core import Builder, Region
from recomp.ir.spec import render
from recomp.ir.types import I1, I8, I16, I32
from recomp.opt.fold import _FOLDABLE
from recomp.runtime import Emulator
from recomp.runtime.reference import _STEPS, ReferenceRegion

SPEC = (EXAMPLES.parent / "ir" / "SPEC.md").read_text()


def test_every_op_has_interpreter_lowering_and_spec():
    assert set(_STEPS) == set(OPS)
    assert set(LOWER) == set(OPS)
    for name in OPS:
        assert f"| `{name}` |" in SPEC, f"{name} is not specified in ir/SPEC.md"


def test_the_spec_tables_are_the_code_tables():
    """ir/SPEC.md's op, exit and state-field tables are generated from ir/ops.py and ir/guest.py;
    after a change there, `python -m recomp.ir.spec` writes them anew."""
    assert render(SPEC) == SPEC, "ir/SPEC.md drifted from the op tables: run python -m recomp.ir.spec"


def test_every_icode_example_in_the_spec_parses_and_verifies():
    examples = re.findall(r"```icode\n(.*?)```", SPEC, re.DOTALL)
    assert examples
    for text in examples:
        region = parse(text)
        verify(region, GUEST if region.guest == "tst27" else None)
        assert format_region(region) == text


# every op of the table, for the 6502 (one block per terminator); run with every budget short,
# an interrupt pending and a store into code noted, so that the exits fire
EFFECTS_6502 = """region mos6502 @0x0200
L0200 @0x0200:
  guard 1, 2
  insn 0x0200, 2
  %0:i8 = const 0x5
  %1:i8 = getreg a
  setreg x, %0
  %2:i1 = getflag C
  setflag Z, %2
  defer N, %2
  %3:i8 = add %0, %1
  %4:i8 = sub %0, %1
  %5:i8 = mul %0, %1
  %6:i8 = and %0, %1
  %7:i8 = or %0, %1
  %8:i8 = xor %0, %1
  %9:i8 = shl %0, %1
  %10:i8 = lshr %0, %1
  %11:i8 = ashr %0, %1
  %12:i1 = eq %0, %1
  %13:i1 = ne %0, %1
  %14:i1 = ult %0, %1
  %15:i1 = ule %0, %1
  %16:i1 = slt %0, %1
  %17:i1 = sle %0, %1
  %18:i16 = zext %0
  %19:i16 = sext %0
  %20:i8 = trunc %18
  %21:i8 = select %2, %0, %1
  %22:i16 = const 0x10
  %23:i8 = load %22
  %26:i8 = fetch %22
  store %22, %0
  cycles %0
  settle 1, 1
  poll %22
  smc %22
  watched %22
  exit_if %12, 0x0300
  trap_if %13, 0x0300
  br L0201
L0201 @0x0201:
  %24:i1 = const 0x1
  cbr %24, L0202, L0203
L0202 @0x0202:
  exit 0x0300
L0203 @0x0203:
  %25:i16 = const 0x400
  exit_ind %25
L0207 @0x0207:
  %27:i16 = const 0x205
  jump_ind %27, L0204, L0205
L0204 @0x0204:
  halt 0x0204
L0205 @0x0205:
  fault 0x0205
L0206 @0x0206:
  trap 0x0206
"""
EFFECTS_TST27 = """region tst27 @0x0000
L0000 @0x0000:
  %0:i32 = const 0x1
  call print, %0, %0
  halt 0x0000
"""


class RecordingState:
    """A guest state that notes which fields are read and written."""

    def __init__(self, state) -> None:
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "reads", set())
        object.__setattr__(self, "writes", set())

    def __getattr__(self, name: str):
        self.reads.add(name)
        return getattr(self._state, name)

    def __setattr__(self, name: str, value) -> None:
        self.writes.add(name)
        setattr(self._state, name, value)


@pytest.mark.parametrize("frontend, text", [("6502", EFFECTS_6502), ("tst27", EFFECTS_TST27)])
def test_the_reference_engine_touches_only_the_state_the_op_table_declares(frontend, text):
    """The lowering keeps exactly the declared fields in host registers, so an op touching any
    other would see a stale value: each op's step may read and write only what its row says
    (and, where it leaves, the values deferred before it in the block)."""
    emu = Emulator(frontend, engine="interp", console=None, output=io.StringIO())
    region = parse(text)
    verify(region, emu.guest)
    machine = emu.machine
    machine.state.limit = machine.state.cycle_limit = 0
    machine.state.events = machine.state.code_written = 1
    recording = machine.state = RecordingState(machine.state)
    engine = ReferenceRegion(region, machine)
    env = [0] * region.next_value_id()
    for block in region.blocks:
        deferred = set()
        for op, step in zip(block.ops, engine.blocks[block.label]):
            recording.reads.clear()
            recording.writes.clear()
            step(env)
            assert recording.reads <= op.state_reads(), (op.name, recording.reads)
            assert recording.writes <= op.state_writes() | deferred, (op.name, recording.writes)
            if op.name == "defer":
                deferred.add(op.args[0])
    if frontend == "6502":
        assert {op.name for op in region.ops()} == set(OPS) - {"call"}


def test_foldable_ops_are_pure():
    assert all(OPS[name].pure for name in _FOLDABLE)


@pytest.mark.parametrize("name", ["test1", "test2"])
def test_lifted_demo_round_trips(name):
    emu = Emulator("tst27", engine="interp")
    emu.load(assemble((EXAMPLES / "tst27" / f"{name}.s").read_text()))
    lifted = emu.pipeline.lift(0).region
    verify(lifted, GUEST)
    text = format_region(lifted)
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
    ("  insn 0x0, 2\n  exit 0x0\n", "tst27 counts no cycles"),
    ("  guard 1, 2\n  exit 0x0\n", "tst27 counts no cycles"),
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
