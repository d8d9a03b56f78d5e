"""Scene-graph algorithms, checked against brute force on random graphs."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from narrative.storygraph import cycles, reachable, reaching, shortest_path, strongly_connected

NODES = [f"s{i}" for i in range(8)]

graphs = st.dictionaries(
    st.sampled_from(NODES),
    st.lists(st.sampled_from([*NODES, "missing"]), max_size=4),
    min_size=1,
).map(lambda g: {node: g[node] for node in sorted(g)})


def closure(graph: dict[str, list[str]], node: str) -> set[str]:
    """Reachable set by repeated relaxation: slow, obviously right."""
    found = {node}
    while True:
        grown = found | {t for n in found for t in graph[n] if t in graph}
        if grown == found:
            return found
        found = grown


@given(graphs)
def test_reachable_matches_closure(graph: dict[str, list[str]]) -> None:
    start = next(iter(graph))
    order = reachable(graph, start)
    assert order[0] == start
    assert len(order) == len(set(order))
    assert set(order) == closure(graph, start)


@given(graphs, st.sets(st.sampled_from(NODES)))
def test_reaching_matches_closure(graph: dict[str, list[str]], targets: set[str]) -> None:
    expected = {n for n in graph if closure(graph, n) & targets}
    assert reaching(graph, targets) == expected


@given(graphs)
def test_components_are_mutual_reachability_classes(graph: dict[str, list[str]]) -> None:
    components = strongly_connected(graph)
    assert sorted(n for c in components for n in c) == sorted(graph)
    for component in components:
        for a in component:
            same = {b for b in graph if b in closure(graph, a) and a in closure(graph, b)}
            assert same == set(component)
    looping = {n for c in cycles(graph) for n in c}
    on_a_loop = {n for n in graph if any(n in closure(graph, t) for t in graph[n] if t in graph)}
    assert looping == on_a_loop


@given(graphs, st.sampled_from(NODES))
def test_shortest_path_is_a_shortest_avoiding_path(graph: dict[str, list[str]], avoid: str) -> None:
    start, *rest = graph
    goals = set(rest[-2:])
    path = shortest_path(graph, start, goals, avoid=avoid)
    pruned = {n: [t for t in ts if t != avoid] for n, ts in graph.items() if n != avoid}
    if path is None:
        assert start == avoid or not closure(pruned, start) & goals
        return
    assert path[0] == start
    assert path[-1] in goals
    assert avoid not in path
    assert all(b in graph[a] for a, b in itertools.pairwise(path))
    # no goal is closer: breadth-first layers from start
    layer, seen = {start}, {start}
    for _ in range(len(path) - 1):
        assert not layer & goals
        layer = {t for n in layer for t in pruned[n] if t in pruned and t not in seen}
        seen |= layer


def test_shortest_path_prefers_earlier_options() -> None:
    graph = {"a": ["b", "c"], "b": ["e"], "c": ["e"], "e": []}
    assert shortest_path(graph, "a", {"e"}) == ["a", "b", "e"]
    assert shortest_path(graph, "a", {"e"}, avoid="b") == ["a", "c", "e"]
    assert shortest_path(graph, "a", {"e"}, avoid="a") is None


def test_long_chains_do_not_recurse() -> None:
    graph = {f"n{i}": [f"n{i + 1}"] for i in range(20_000)}
    graph["n20000"] = ["n0"]
    [component] = cycles(graph)
    assert len(component) == 20_001
