"""Where everything goes: layers, ordering against crossings, columns, rows and edge routes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from suite.workflow.drawing.graph import _Edge
from suite.workflow.drawing.shapes import (
    CARD_W,
    GAP_LANE,
    GAP_X,
    LABEL_LINE,
    LABEL_SIZE,
    LANE_LABEL_MAX,
    LANE_W,
    MARGIN,
    TRACK,
)
from suite.workflow.drawing.summaries import _View
from suite.workflow.drawing.text import _width, _wrap


@dataclass(eq=False)
class _Item:
    layer: int
    w: float
    h: float
    node_id: str | None = None  # None: a lane point of a long edge
    ups: list[int] = field(default_factory=list)
    downs: list[int] = field(default_factory=list)
    x: float = 0.0
    top: float = 0.0

    @property
    def lane(self) -> bool:
        return self.node_id is None


@dataclass
class _Label:
    edge: int
    lines: list[str]
    x: float
    top: float
    w: float
    h: float


class _Layout:
    """Items (nodes and lane points) with positions, edge polylines and edge label boxes."""

    def __init__(
        self,
        nodes: Mapping[str, Mapping[str, Any]],
        start: str,
        edges: list[_Edge],
        views: Mapping[str, _View],
        edge_texts: list[str],
    ) -> None:
        self.edges = edges
        layer = self._layers(nodes, edges)
        self.items = [_Item(layer[nid], v.w, v.h, nid) for nid, v in views.items()]
        self.index = {nid: i for i, nid in enumerate(views)}
        self.paths: list[list[int]] = []
        self.rank: dict[tuple[int, int], int] = {}
        lanes: dict[tuple[str, int], int] = {}
        for e in edges:
            path = [self.index[e.src]]
            for k in range(layer[e.src] + 1, layer[e.dst]):
                if (e.dst, k) not in lanes:
                    lanes[e.dst, k] = len(self.items)
                    self.items.append(_Item(k, LANE_W, 0.0))
                path.append(lanes[e.dst, k])
            path.append(self.index[e.dst])
            self.paths.append(path)
            for j, (a, b) in enumerate(zip(path, path[1:], strict=False)):
                if b not in self.items[a].downs:
                    self.items[a].downs.append(b)
                    self.items[b].ups.append(a)
                r = e.rank if j == 0 else 0
                self.rank[a, b] = min(self.rank.get((a, b), r), r)
        self.label_lines: dict[int, list[str]] = {}
        for i, text in enumerate(edge_texts):
            if not text:
                continue
            first = self.items[self.paths[i][1]]
            max_w = LANE_LABEL_MAX if first.lane else CARD_W
            lines = _wrap(text, LABEL_SIZE, max_w - 16, 2)
            self.label_lines[i] = lines
            first.w = max(first.w, max(_width(s, LABEL_SIZE) for s in lines) + 16)
        self.rows = self._order(self.index.get(start, -1))
        self.pos = {i: p for row in self.rows for p, i in enumerate(row)}
        self._xs()
        self.bend: dict[tuple[int, int], float] = {}
        self.bars: list[tuple[float, float, float]] = []  # parallel split / join bars
        self.labels: list[_Label] = []
        self.height = self._ys(nodes)

    @staticmethod
    def _layers(nodes: Mapping[str, Mapping[str, Any]], edges: list[_Edge]) -> dict[str, int]:
        """Longest path from the roots (the start first), so a node sits below all its inputs."""
        indeg = dict.fromkeys(nodes, 0)
        out: dict[str, list[str]] = {nid: [] for nid in nodes}
        for e in edges:
            indeg[e.dst] += 1
            out[e.src].append(e.dst)
        layer = dict.fromkeys(nodes, 0)
        queue = [nid for nid in nodes if indeg[nid] == 0]
        for nid in queue:  # the queue grows while it is read
            for target in out[nid]:
                layer[target] = max(layer[target], layer[nid] + 1)
                indeg[target] -= 1
                if indeg[target] == 0:
                    queue.append(target)
        return layer

    def _order(self, start: int) -> list[list[int]]:
        items = self.items
        rows: list[list[int]] = (
            [[] for _ in range(max(i.layer for i in items) + 1)] if items else []
        )
        for i, item in enumerate(items):
            rows[item.layer].append(i)
        pos: dict[int, int] = {}
        for row in rows:
            # First come, first placed: a decision's cases left to right, its default last.
            row.sort(
                key=lambda i: min(
                    ((pos[a], self.rank[a, i], 0) for a in items[i].ups),
                    default=(math.inf, int(i != start), i),
                )
            )
            pos.update((i, p) for p, i in enumerate(row))
        best, best_cross = [r[:] for r in rows], self._crossings(rows, pos)
        for _ in range(4):
            if best_cross == 0:
                break
            down = [(k, "ups") for k in range(1, len(rows))]
            up = [(k, "downs") for k in range(len(rows) - 2, -1, -1)]
            for k, side in down + up:
                rows[k].sort(key=lambda i, s=side: (self._bary(i, s, pos), pos[i]))
                pos.update((i, p) for p, i in enumerate(rows[k]))
            cross = self._crossings(rows, pos)
            if cross < best_cross:
                best, best_cross = [r[:] for r in rows], cross
        return best

    def _bary(self, i: int, side: str, pos: Mapping[int, int]) -> float:
        near = getattr(self.items[i], side)
        return sum(pos[a] for a in near) / len(near) if near else float(pos[i])

    def _crossings(self, rows: list[list[int]], pos: Mapping[int, int]) -> int:
        count = 0
        for row in rows:
            hops = [(pos[a], pos[b]) for a in row for b in self.items[a].downs]
            count += sum(
                1
                for j, (a1, b1) in enumerate(hops)
                for a2, b2 in hops[j + 1 :]
                if (a1 - a2) * (b1 - b2) < 0
            )
        return count

    def _partner(self, cands: list[int]) -> int | None:
        """The neighbour to share a column with: the only one, else the middle real node."""
        if len(cands) == 1:
            return cands[0]
        real = [c for c in cands if not self.items[c].lane]
        pool = real or cands
        return pool[len(pool) // 2] if len(pool) % 2 else None

    def _xs(self) -> None:
        items, pos = self.items, self.pos
        align: dict[int, int] = {}
        for row in self.rows:
            last = -1
            for u in row:
                v = self._partner(sorted(items[u].downs, key=pos.__getitem__))
                if v is None:
                    continue
                ups = sorted(items[v].ups, key=pos.__getitem__)
                lane_ups = [a for a in ups if items[a].lane] if items[v].lane else []
                if (lane_ups[0] if lane_ups else self._partner(ups)) == u and pos[v] > last:
                    align[u], last = v, pos[v]
        root: dict[int, int] = {}
        for row in self.rows:
            for i in row:
                if i not in root:
                    root[i] = j = i
                    while j in align:
                        j = align[j]
                        root[j] = i
        blocks = list(dict.fromkeys(root[i] for row in self.rows for i in row))
        members: dict[int, list[int]] = {b: [] for b in blocks}
        for i, b in root.items():
            members[b].append(i)
        left: dict[int, list[tuple[int, float]]] = {b: [] for b in blocks}
        right: dict[int, list[tuple[int, float]]] = {b: [] for b in blocks}
        for row in self.rows:
            for a, b in zip(row, row[1:], strict=False):
                gap = GAP_LANE if items[a].lane or items[b].lane else GAP_X
                sep = (items[a].w + items[b].w) / 2 + gap
                right[root[a]].append((root[b], sep))
                left[root[b]].append((root[a], sep))
        x = dict.fromkeys(blocks, 0.0)
        indeg = {b: len(left[b]) for b in blocks}
        queue = [b for b in blocks if indeg[b] == 0]
        for a in queue:
            for b, sep in right[a]:
                x[b] = max(x[b], x[a] + sep)
                indeg[b] -= 1
                if indeg[b] == 0:
                    queue.append(b)
        # Relax: each column moves toward the mean of its neighbours within its slack.
        for sweep in range(60):
            moved = 0.0
            for b in blocks if sweep % 2 == 0 else blocks[::-1]:
                near = [
                    x[root[n]]
                    for i in members[b]
                    for n in (*items[i].ups, *items[i].downs)
                    if root[n] != b
                ]
                if not near:
                    continue
                lo = max((x[a] + s for a, s in left[b]), default=-math.inf)
                hi = min((x[c] - s for c, s in right[b]), default=math.inf)
                new = max(min(sum(near) / len(near), hi), lo)
                moved = max(moved, abs(new - x[b]))
                x[b] = new
            if moved < 0.25:
                break
        for i, item in enumerate(items):
            item.x = round(x[root[i]] * 2) / 2

    def _ys(self, nodes: Mapping[str, Mapping[str, Any]]) -> float:
        items = self.items
        first_hop = {(p[0], p[1]): [] for p in self.paths}
        for e in self.label_lines:
            first_hop[self.paths[e][0], self.paths[e][1]].append(e)
        y = MARGIN + 2
        for k, row in enumerate(self.rows):
            row_h = max(items[i].h for i in row)
            for i in row:
                items[i].top = y + (row_h - items[i].h) / 2
            y += row_h
            if k == len(self.rows) - 1:
                break
            groups: dict[tuple[str, int], list[tuple[int, int]]] = {}
            level: dict[tuple[int, int], tuple[str, int]] = {}
            for u in row:
                for v in items[u].downs:
                    if abs(items[u].x - items[v].x) < 0.5:
                        continue
                    if len(items[u].downs) == 1 and len(items[v].ups) > 1:
                        key = ("m", v)
                    else:
                        key = ("s", u)
                    groups.setdefault(key, []).append((u, v))
                    level[u, v] = key
            spans = {}
            for key in groups:
                near = items[key[1]].downs if key[0] == "s" else items[key[1]].ups
                xs = [items[n].x for n in (key[1], *near)]
                spans[key] = (min(xs), max(xs))
            track: dict[tuple[str, int], int] = {}
            count = {"s": 0, "m": 0}
            for lvl in ("s", "m"):
                ends: list[float] = []
                for key in sorted((g for g in groups if g[0] == lvl), key=spans.__getitem__):
                    lo, hi = spans[key]
                    free = next((t for t, end in enumerate(ends) if end + 6 < lo), len(ends))
                    if free == len(ends):
                        ends.append(hi)
                    ends[free] = hi
                    track[key] = free
                count[lvl] = len(ends)
            stacks: dict[float, list[tuple[int, float]]] = {}
            for u in row:
                for v in items[u].downs:
                    for e in first_hop.get((u, v), ()):
                        on_source = level.get((u, v), ("s", 0))[0] == "m"
                        lx = items[u].x if on_source else items[v].x
                        stacks.setdefault(lx, []).append((e, lx))
            zone = max(
                (
                    sum(len(self.label_lines[e]) * LABEL_LINE + 10 for e, _ in s)
                    for s in stacks.values()
                ),
                default=0.0,
            )
            cur = y + 10
            split_y = [cur + t * TRACK for t in range(count["s"])]
            cur += count["s"] * TRACK + (4 if count["s"] else 0)
            for stack in stacks.values():
                top = cur
                for e, lx in stack:
                    h = len(self.label_lines[e]) * LABEL_LINE + 6
                    w = max(_width(s, LABEL_SIZE) for s in self.label_lines[e]) + 16
                    self.labels.append(_Label(e, self.label_lines[e], lx, top, w, h))
                    top += h + 4
            cur += zone
            merge_y = [cur + t * TRACK for t in range(count["m"])]
            cur += count["m"] * TRACK + 14
            for key, hops in groups.items():
                yb = (split_y if key[0] == "s" else merge_y)[track[key]]
                for hop in hops:
                    self.bend[hop] = yb
                nid = items[key[1]].node_id
                kind = nodes[nid].get("kind") if nid is not None else None
                if (key[0], kind) in {("s", "parallel"), ("m", "join")}:
                    self.bars.append((*spans[key], yb))
            y = max(cur, y + 36)
        return y + MARGIN + 2

    def points(self, edge: int) -> list[tuple[float, float]]:
        pts: list[tuple[float, float]] = []
        path = self.paths[edge]
        for a, b in zip(path, path[1:], strict=False):
            u, v = self.items[a], self.items[b]
            pts.append((u.x, u.top + u.h))
            if (a, b) in self.bend:
                yb = self.bend[a, b]
                pts += [(u.x, yb), (v.x, yb)]
            pts.append((v.x, v.top))
        return pts
