"""Load/store pairs: a load of bytes the block stored or loaded before, with no store that may
overlap them in between, takes that value (``PHA ... PLA`` and ``PHA; PLP`` move the value
through the stack without reading memory back).

Only accesses that cannot reach a device qualify (a device answers each load afresh), so the
pass needs the device map (``Context.devices``).  Accesses are matched by their address value:
the same value (after ``cse``) or the same constant names the same bytes; a store forgets what
it may overwrite: accesses whose byte ranges overlap its own, unless both are single bytes at
provably different addresses (``s`` and ``s - 1`` in the stack page).
"""

from __future__ import annotations

from recomp.ir.core import Op, Region, Value
from recomp.ir.types import I8
from recomp.opt.context import Context
from recomp.opt.ranges import access_type, distinct, intersects, overlaps, touched
from recomp.opt.rewrite import constant, substitute


def _address_key(defs: dict[int, Op], op: Op) -> tuple:
    address = op.args[0]
    value = constant(defs, address)
    width = access_type(op).bits
    return ("const", value, width) if value is not None else ("value", address.id, width)


def _may_overwrite(defs: dict[int, Op], store: Op, span: tuple[int, int] | None, other: Op,
                   other_span: tuple[int, int]) -> bool:
    if not intersects(span, other_span):
        return False
    single = access_type(store) == access_type(other) == I8
    return not (single and distinct(defs, store.args[0], other.args[0]))


def memory(region: Region, context: Context) -> dict[str, int]:
    if context.devices is None:
        return {"loads": 0}
    size = context.memory_size
    forwarded = 0
    for block in region.blocks:
        defs: dict[int, Op] = {}
        known: list[tuple[tuple, tuple[int, int], Value, Op]] = []  # (key, bytes, contents, access)
        replaced: dict[int, Value] = {}
        kept = []
        for op in block.ops:
            substitute(op, replaced)
            if op.name in ("load", "store"):
                span = touched(defs, op, size)
                key = _address_key(defs, op)
                device = overlaps(span, context.devices)
                if op.name == "store":
                    known = [k for k in known if not _may_overwrite(defs, op, span, k[3], k[1])]
                    if not device and span is not None:
                        known.append((key, span, op.args[1], op))
                elif not device:
                    match = next((value for k, _, value, _ in known if k == key), None)
                    if match is not None:
                        replaced[op.result.id] = match
                        forwarded += 1
                        continue
                    if span is not None:
                        known.append((key, span, op.result, op))
            elif op.name == "call":
                known = []
            if op.result is not None:
                defs[op.result.id] = op
            kept.append(op)
        block.ops = kept
    return {"loads": forwarded}
