"""The spec as a graph: nodes, and edges in out-edge order with cycles (a broken overlay) cut."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Edge:
    src: str
    dst: str
    kind: str  # next | case | default | branch
    text: str  # a case's condition
    rank: int  # position among the source's out-edges (cases in order, default last)


def _successors(node: Mapping[str, Any]) -> Iterator[tuple[object, str, str]]:
    kind = node.get("kind")
    if kind == "decision":
        for case in node.get("cases") or ():
            if isinstance(case, Mapping):
                yield case.get("next"), "case", str(case.get("when") or "")
        yield node.get("default"), "default", ""
    elif kind == "parallel":
        branches = list(node.get("branches") or ())
        for branch in branches:
            yield branch, "branch", ""
        if not branches:
            yield node.get("join"), "next", ""
    else:
        yield node.get("next"), "next", ""


def _graph(spec: Mapping[str, Any]) -> tuple[dict[str, Mapping[str, Any]], str, list[_Edge]]:
    raw = spec.get("nodes") or {}
    nodes = {str(k): v for k, v in raw.items() if isinstance(v, Mapping)}
    start = str(spec.get("start") or "")
    if start not in nodes:
        start = next(iter(nodes), "")
    edges: list[_Edge] = []
    for nid, node in nodes.items():
        rank = 0
        for target, kind, text in _successors(node):
            if target is not None and str(target) in nodes and str(target) != nid:
                edges.append(_Edge(nid, str(target), kind, text, rank))
                rank += 1
    # Send-back edges are not in a spec; a broken overlay with a cycle must still draw.
    out: dict[str, list[int]] = {nid: [] for nid in nodes}
    for i, e in enumerate(edges):
        out[e.src].append(i)
    state = dict.fromkeys(nodes, 0)
    back: set[int] = set()
    for root in [start, *nodes] if nodes else []:
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            nid, pending = stack[-1]
            for i in pending:
                target = edges[i].dst
                if state[target] == 1:
                    back.add(i)
                elif state[target] == 0:
                    state[target] = 1
                    stack.append((target, iter(out[target])))
                    break
            else:
                state[nid] = 2
                stack.pop()
    return nodes, start, [e for i, e in enumerate(edges) if i not in back]
