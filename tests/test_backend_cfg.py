"""Loop finding (``recomp.backend.cfg``) on random graphs, against reachability: a graph has a
loop target exactly when it has a cycle, and every target is on one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from recomp.backend.cfg import loop_targets


def reaches(successors: dict[int, list[int]], start: int) -> set[int]:
    """The blocks reached from ``start`` by one edge or more."""
    seen: set[int] = set()
    todo = list(successors[start])
    while todo:
        block = todo.pop()
        if block not in seen:
            seen.add(block)
            todo.extend(successors[block])
    return seen


graphs = st.integers(1, 8).flatmap(
    lambda n: st.fixed_dictionaries({b: st.lists(st.integers(0, n - 1), max_size=3) for b in range(n)}))


@given(graphs)
def test_a_graph_loops_exactly_when_it_has_a_cycle(successors):
    targets = loop_targets(successors, successors)
    assert bool(targets) == any(b in reaches(successors, b) for b in successors)
    assert all(t in reaches(successors, t) for t in targets)


@given(graphs)
def test_every_cycle_reached_from_the_entry_closes_on_a_target(successors):
    targets = loop_targets([0], successors)
    reached = reaches(successors, 0) | {0}
    for block in reached:
        if block in reaches(successors, block):  # on a cycle: some target is on the same cycle
            assert any(t in reaches(successors, block) and block in reaches(successors, t) for t in targets)


def test_examples():
    assert loop_targets([0], {0: [1, 2], 1: [3], 2: [3], 3: []}) == set()  # a diamond
    assert loop_targets([0], {0: [0]}) == {0}
    assert loop_targets([0], {0: [1], 1: [2, 0], 2: [1]}) == {0, 1}  # nested
    assert loop_targets([0], {0: [], 1: [1]}) == set()  # a loop the entry never reaches
