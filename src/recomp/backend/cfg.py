"""Loops in a control-flow graph, found by depth-first search: the lowering gives the guards of
loop heads a fresh read of the budget (so Ctrl-C stops a loop), and the JIT compiles again, with
guards, a region whose optimized code still loops without them."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

Block = TypeVar("Block", bound=Hashable)


def loop_targets(roots: Iterable[Block], successors: Mapping[Block, Sequence[Block]]) -> set[Block]:
    """The blocks loops close on, among those reached from ``roots``: targets of an edge from a
    block on the search path back to a block on it (each cycle has one)."""
    found: set[Block] = set()
    state: dict[Block, int] = {}  # 1: on the path being searched, 2: done
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(successors[root]))]
        while stack:
            block, following = stack[-1]
            target = next(following, None)
            if target is None:
                state[block] = 2
                stack.pop()
            elif state.get(target) == 1:
                found.add(target)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(successors[target])))
    return found
