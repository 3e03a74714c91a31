"""A SIGINT handler in native code: Python's own handler only notes a signal and acts at the
next bytecode, which a loop in compiled code never reaches.  This one marks every running
machine (a table of state addresses the runtime keeps) as ``recomp.runtime.ctrl_c`` describes,
then passes the signal on to the handler it replaced, unless ``busy`` says the main thread is
running a machine (whose run loop then raises ``KeyboardInterrupt`` at a clean point).  It only
stores words and calls the previous handler: it is async-signal-safe.

The tables' addresses, their size and the fields' offsets are symbols the object leaves
undefined, given when it is linked: one object, built when recomp is installed, serves every
process."""

from __future__ import annotations

from llvmlite import ir as ll

from recomp.backend.lower import I8_T, I32_T, I64_T, PTR, function_pointer, load_volatile, store_volatile

FIELDS = (("interrupt", I8_T, 1), ("events", I8_T, 1), ("limit", I64_T, 0), ("cycle_limit", I64_T, 0))


def lower_interrupt_handler(module: ll.Module, name: str, symbols: dict[str, str]) -> ll.Function:
    """``void name(int sig, siginfo *, void *)``: for each non-null state address in the ``count``
    slots at address ``slots``, set the byte fields ``interrupt`` and ``events`` to 1 and the
    64-bit fields ``limit`` and ``cycle_limit`` to 0 (at their offsets); then, unless the word at
    ``busy`` is non-zero, call the handler whose address is at ``previous`` (if it is one, not
    SIG_DFL or SIG_IGN).  Each of these (and each field's offset) is the value of the symbol
    ``symbols`` names for it."""
    function = ll.Function(module, ll.FunctionType(ll.VoidType(), [I32_T, PTR, PTR]), name)
    b = ll.IRBuilder(function.append_basic_block("entry"))
    given = {what: ll.GlobalVariable(module, I8_T, symbol) for what, symbol in symbols.items()}
    number = {what: b.ptrtoint(given[what], I64_T) for what in ("count", *(field for field, _, _ in FIELDS))}
    table = given["slots"]
    loop, mark, step, chain, call, done = (function.append_basic_block(n)
                                          for n in ("loop", "mark", "step", "chain", "call", "done"))
    b.branch(loop)
    b.position_at_end(loop)
    index = b.phi(I64_T, name="slot")
    index.add_incoming(I64_T(0), function.entry_basic_block)
    state = load_volatile(b, b.gep(table, [index], inbounds=True, source_etype=PTR), PTR, "state")
    b.cbranch(b.icmp_unsigned("==", state, ll.Constant(PTR, None)), step, mark)
    b.position_at_end(mark)
    for field, width, value in FIELDS:
        store_volatile(b, width(value), b.gep(state, [number[field]], inbounds=True, source_etype=I8_T))
    b.branch(step)
    b.position_at_end(step)
    after = b.add(index, I64_T(1))
    index.add_incoming(after, step)
    b.cbranch(b.icmp_unsigned("==", after, number["count"]), chain, loop)
    b.position_at_end(chain)
    running = load_volatile(b, given["busy"], I64_T)
    handler = function_pointer(b, given["previous"], function.function_type)
    usable = b.and_(b.icmp_unsigned("==", running, I64_T(0)),
                    b.icmp_unsigned(">", b.ptrtoint(handler, I64_T), I64_T(1)))
    b.cbranch(usable, call, done)
    b.position_at_end(call)
    b.call(handler, list(function.args))
    b.branch(done)
    b.position_at_end(done)
    b.ret_void()
    return function
