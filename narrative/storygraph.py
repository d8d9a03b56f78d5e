"""Graph algorithms over a story's scene graph, kept apart from what they are used for.

The validator asks graph questions — what can the room reach, what is the shortest
playthrough that skips a scene, where can it loop forever — and the screening and the
``story graph`` command may ask them too. A graph here is a plain mapping from a scene id
to the scenes it can lead to, in file order. Every answer is deterministic: traversals
follow that order, so a message naming a path names the same path on every run.

All functions are iterative: a generated story with thousands of scenes must not hit
Python's recursion limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence

Graph = Mapping[str, Sequence[str]]


def reachable(graph: Graph, start: str) -> list[str]:
    """Scenes reachable from ``start`` (itself included), in breadth-first order."""
    if start not in graph:
        return []
    seen = {start}
    order = [start]
    queue = deque([start])
    while queue:
        for target in graph[queue.popleft()]:
            if target in graph and target not in seen:
                seen.add(target)
                order.append(target)
                queue.append(target)
    return order


def shortest_path(
    graph: Graph, start: str, goals: Collection[str], *, avoid: str | None = None
) -> list[str] | None:
    """The shortest path from ``start`` to any of ``goals`` that never enters ``avoid``.

    Breadth-first in file order, so among equally short paths the one through the
    earliest-listed options wins. Returns None when there is no such path.
    """
    if start not in graph or start == avoid:
        return None
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node in goals:
            path = [node]
            while (previous := parent[path[-1]]) is not None:
                path.append(previous)
            return path[::-1]
        for target in graph[node]:
            if target in graph and target != avoid and target not in parent:
                parent[target] = node
                queue.append(target)
    return None


def reaching(graph: Graph, targets: Iterable[str]) -> set[str]:
    """Scenes from which some scene of ``targets`` is reachable (the targets included)."""
    incoming: dict[str, list[str]] = {node: [] for node in graph}
    for node, outgoing in graph.items():
        for target in outgoing:
            if target in incoming:
                incoming[target].append(node)
    found = {target for target in targets if target in graph}
    queue = deque(found)
    while queue:
        for source in incoming[queue.popleft()]:
            if source not in found:
                found.add(source)
                queue.append(source)
    return found


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Strongly connected components (Tarjan), each listed in the graph's key order."""
    rank = {node: i for i, node in enumerate(graph)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in graph:
        if root in index:
            continue
        visit(root)
        work = [(root, iter(graph[root]))]
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in graph:
                    continue
                if target not in index:
                    visit(target)
                    work.append((target, iter(graph[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while not component or component[-1] != node:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                    components.append(sorted(component, key=rank.__getitem__))
    return components


def cycles(graph: Graph) -> list[list[str]]:
    """Components the room can loop in: two or more scenes, or one leading to itself.

    Ordered by each component's first scene in the graph's key order.
    """
    rank = {node: i for i, node in enumerate(graph)}
    looping = [
        component
        for component in strongly_connected(graph)
        if len(component) > 1 or component[0] in graph[component[0]]
    ]
    return sorted(looping, key=lambda component: rank[component[0]])


__all__ = ["Graph", "cycles", "reachable", "reaching", "shortest_path", "strongly_connected"]
