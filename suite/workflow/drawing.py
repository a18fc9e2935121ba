"""Process flow drawings: a compiled spec (docs/WORKFLOW.md 2.1) as an inline, script-free SVG.

Drawn top to bottom like DingTalk's approval designer. The layout is a small Sugiyama pass:
layers by longest path from the start; long edges run through lane points shared per target
(skip edges such as a decision's "other" become one lane); a barycenter pass against crossings;
chains of single successors aligned into straight columns; orthogonal edges with rounded bends.
Only presentation attributes are used: the CSP (style-src 'self') forbids style attributes.
Display names live in `TEXT` (zh_CN and en) because the SVG is rendered for one locale and this
module must not depend on a request (no gettext).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

TEXT: dict[str, dict[str, str]] = {
    "any": {"zh_CN": "或签", "en": "any one"},
    "all": {"zh_CN": "会签", "en": "all"},
    "sequential": {"zh_CN": "依次", "en": "in turn"},
    "n_of": {"zh_CN": "{0} 人同意", "en": "{0} must approve"},
    "initiator": {"zh_CN": "发起人", "en": "Initiator"},
    "initiator_selected": {"zh_CN": "发起人自选", "en": "Chosen by initiator"},
    "department_head": {"zh_CN": "部门负责人", "en": "Department head"},
    "department_head_of": {"zh_CN": "{0}负责人", "en": "Head of {0}"},
    "manager": {"zh_CN": "直属主管", "en": "Manager"},
    "manager_levels": {"zh_CN": "逐级 {0} 级", "en": "Managers, {0} levels"},
    "role": {"zh_CN": "角色：{0}", "en": "Role: {0}"},
    "field": {"zh_CN": "表单字段：{0}", "en": "Form field: {0}"},
    "no_approvers": {"zh_CN": "未设置审批人", "en": "No approvers set"},
    "wait": {"zh_CN": "等待 {0}", "en": "Wait {0}"},
    "submits": {"zh_CN": "提交申请", "en": "Submits the request"},
    "default_edge": {"zh_CN": "其他", "en": "Default"},
    "disabled": {"zh_CN": "已停用", "en": "Disabled"},
    "current": {"zh_CN": "当前", "en": "current"},
    "done": {"zh_CN": "已完成", "en": "done"},
    "flow": {"zh_CN": "流程图", "en": "Process flow"},
    "kind.edit": {"zh_CN": "发起人", "en": "Initiator"},
    "kind.approval": {"zh_CN": "审批人", "en": "Approver"},
    "kind.cc": {"zh_CN": "抄送人", "en": "CC"},
    "kind.automation": {"zh_CN": "自动操作", "en": "Automation"},
    "kind.wait": {"zh_CN": "等待", "en": "Wait"},
    "kind.decision": {"zh_CN": "条件分支", "en": "Condition"},
    "kind.parallel": {"zh_CN": "并行分支", "en": "Parallel"},
    "kind.join": {"zh_CN": "汇合", "en": "Join"},
    "kind.end": {"zh_CN": "结束", "en": "End"},
    "kind.other": {"zh_CN": "节点", "en": "Step"},
    "unit.m": {"zh_CN": "{0} 分钟", "en": "{0} min"},
    "unit.h": {"zh_CN": "{0} 小时", "en": "{0} h"},
    "unit.d": {"zh_CN": "{0} 天", "en": "{0} days"},
    "unit.wd": {"zh_CN": "{0} 个工作日", "en": "{0} working days"},
    "sep": {"zh_CN": "、", "en": ", "},
}

CARDS = {"edit", "approval", "cc", "automation", "wait"}
PILLS = {"decision", "parallel", "join"}
# kind -> (accent, header tint); brand green for approvals as in static/css/suite.css
COLOURS = {
    "edit": ("#3e4a59", "#eef1f5"),
    "approval": ("#0b6e4f", "#e6f4ef"),
    "cc": ("#1d4ed8", "#e8f0fe"),
    "automation": ("#6b46c1", "#f1ecfb"),
    "wait": ("#8a5a00", "#fff4d6"),
    "other": ("#3e4a59", "#eef1f5"),
}
BRAND, FG, MUTED, FAINT, LINE = "#0b6e4f", "#1f2933", "#5f6b7a", "#8a94a3", "#dde3ea"
EDGE = "#a3adba"
FONT = "system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
ICONS = {  # 14 x 14, stroked with the kind's accent
    "edit": '<path d="M9.5 2.5l2 2-6.5 6.5H3V9z M8 4l2 2"/>',
    "approval": '<circle cx="7" cy="4.6" r="2.6"/>'
    '<path d="M2 13c.4-2.7 2.4-4.3 5-4.3s4.6 1.6 5 4.3"/>',
    "automation": '<path d="M8 1.5L3 8h4l-1 4.5L11 6H7z"/>',
    "wait": '<circle cx="7" cy="7" r="5.5"/><path d="M7 4v3.2l2.2 1.4"/>',
    "decision": '<path d="M7 1.5l5.5 5.5L7 12.5 1.5 7z"/>',
    "parallel": '<path d="M7 1.5v4M7 5.5L2.5 12M7 5.5l4.5 6.5"/>',
    "join": '<path d="M2.5 2l4.5 6.5L11.5 2M7 8.5v4"/>',
    "other": '<circle cx="7" cy="7" r="4"/>',
}

CARD_W, HEAD_H = 164.0, 26.0
PILL_H, END_H, LANE_W = 30.0, 30.0, 8.0
GAP_X, GAP_LANE, MARGIN, TRACK = 20.0, 12.0, 8.0, 8.0
LABEL_SIZE, LABEL_LINE = 12.0, 15.0
LANE_LABEL_MAX = 140.0
MIN_VIEW_W = 340.0


def render_flow(
    spec: Mapping[str, Any],
    *,
    highlight: Collection[str] = (),
    done: Collection[str] = (),
    label_locale: str = "zh_CN",
    labels: Mapping[str, str] | None = None,
) -> Markup:
    """The process graph of `spec` as an inline `<svg>` for the editor, simulation and documents.

    `highlight` marks the current nodes, `done` the passed ones. `labels` maps a node id to its
    summary line (e.g. the resolved approvers' names) and a role code, login, field or action
    name to its display name inside computed summaries. Output is deterministic and escaped.
    """
    lang = "zh_CN" if label_locale.lower().startswith("zh") else "en"
    names = {str(k): str(v) for k, v in (labels or {}).items()}
    nodes, start, edges = _graph(spec)
    views = {nid: _view(nid, node, spec, label_locale, lang, names) for nid, node in nodes.items()}
    current = {str(n) for n in highlight} & nodes.keys()
    passed = ({str(n) for n in done} & nodes.keys()) - current
    default = _t("default_edge", lang)
    edge_texts = [default if e.kind == "default" else e.text for e in edges]
    lay = _Layout(nodes, start, edges, views, edge_texts)
    uid = hashlib.sha256(
        json.dumps(
            [spec, sorted(current), sorted(passed), label_locale, sorted(names.items())],
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()[:10]
    svg = _svg(spec, lay, views, current, passed, label_locale, lang, uid)
    return Markup(svg)  # noqa: S704 - built from constants and escape()d values only


# ----------------------------------------------------------------------------- texts


def _t(key: str, lang: str, *args: object) -> str:
    text = TEXT[key].get(lang) or TEXT[key]["en"]
    return text.format(*args) if args else text


def _pick(label: object, locale: str) -> str:
    if isinstance(label, Mapping):
        for key in (locale, "en"):
            if label.get(key):
                return str(label[key])
        return ""
    return str(label) if label else ""


def node_label(node_id: str, node: Mapping[str, Any], locale: str) -> str:
    """A node's label in `locale`, else in English, else its id."""
    return _pick(node.get("label"), locale) or node_id


def _char_em(ch: str) -> float:
    o = ord(ch)
    if o >= 0x2E80:
        return 1.0
    if ch in " il.,:;'|!()[]·`":
        return 0.3
    if ch.isupper() or ch in "mw@%&_=<>+~":
        return 0.72
    return 0.58


def _width(text: str, size: float, bold: bool = False) -> float:
    return sum(_char_em(ch) for ch in text) * size * (1.12 if bold else 1.0)


def _fit_count(text: str, size: float, max_w: float) -> int:
    total = 0.0
    for i, ch in enumerate(text):
        total += _char_em(ch) * size
        if total > max_w:
            return max(i, 1)
    return len(text)


def _fit(text: str, size: float, max_w: float, bold: bool = False) -> str:
    """`text` on one line of `max_w`, cut with an ellipsis when longer."""
    if bold:
        size *= 1.12
    if _width(text, size) <= max_w + 0.5:
        return text
    return text[: _fit_count(text, size, max_w - size)].rstrip() + "…"


def _wrap(text: str, size: float, max_w: float, max_lines: int) -> list[str]:
    """Greedy lines: whole " · " segments where they fit, else CJK characters and ASCII words."""
    lines: list[str] = []
    cur = ""
    for seg in " ".join(text.split()).split(" · "):
        joined = f"{cur} · {seg}" if cur else seg
        if _width(joined, size) <= max_w:
            cur = joined
            continue
        if cur:
            lines.append(cur)
            cur = ""
        for token in re.findall(r"[\u2e80-\U0010ffff]|[^\s\u2e80-\U0010ffff]+|\s+", seg):
            if cur and _width((cur + token).rstrip(), size) > max_w:
                lines.append(cur.rstrip())
                cur = token.lstrip()
            else:
                cur += token
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _width(last + "…", size) > max_w:
            last = last[:-1]
        lines[max_lines - 1] = last.rstrip() + "…"
    return [_fit(line, size, max_w) for line in lines[:max_lines]]


def _n(value: float) -> str:
    return f"{round(value, 1) + 0.0:g}"


# ----------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class _View:
    kind: str  # a known kind, or "other"
    label: str  # node_label(): label, English label, or id
    title: str  # the text on the node
    summary: str  # the card's body, in full (the <title> has it)
    lines: list[str]  # the summary as drawn: at most two lines
    disabled: bool
    w: float
    h: float


def _view(
    nid: str,
    node: Mapping[str, Any],
    spec: Mapping[str, Any],
    locale: str,
    lang: str,
    names: Mapping[str, str],
) -> _View:
    raw_kind = str(node.get("kind") or "")
    kind = raw_kind if raw_kind in CARDS | PILLS | {"end"} else "other"
    label = node_label(nid, node, locale)
    explicit = _pick(node.get("label"), locale)
    structural = kind in PILLS | {"edit", "end"}
    title = explicit or (_t(f"kind.{kind}", lang) if structural else nid)
    summary = names.get(nid) or _summary(nid, kind, node, spec, locale, lang, names)
    disabled = node.get("enabled") is False
    if disabled:
        summary = f"{_t('disabled', lang)} · {summary}" if summary else _t("disabled", lang)
    lines = _wrap(summary, 12, CARD_W - 20, 2) if kind in CARDS or kind == "other" else []
    if kind in PILLS:
        w, h = min(max(_width(title, 13, bold=True) + 44, 84.0), CARD_W), PILL_H
    elif kind == "end":
        w, h = max(END_H, _width(title, 12) + 22), END_H
    else:
        w, h = CARD_W, HEAD_H + 17 + 15 * max(len(lines), 1)
    return _View(kind, label, title, summary, lines, disabled, w, h)


def _summary(
    nid: str,
    kind: str,
    node: Mapping[str, Any],
    spec: Mapping[str, Any],
    locale: str,
    lang: str,
    names: Mapping[str, str],
) -> str:
    if kind == "edit":
        return _t("kind.edit", lang) if node.get("label") else _t("submits", lang)
    if kind == "approval":
        who = _people(node.get("approvers"), spec, locale, lang, names)
        if not who:
            return _t("no_approvers", lang)
        mode = str(node.get("mode") or "")
        if mode == "n_of_m":
            n, m = node.get("n") or "?", node.get("m")
            mode_text = f"{n}/{m}" if m else _t("n_of", lang, n)
        else:
            mode_text = _t(mode, lang) if mode in ("any", "all", "sequential") else mode
        return f"{who} · {mode_text}" if mode_text else who
    if kind == "cc":
        return _people(node.get("recipients"), spec, locale, lang, names)
    if kind == "automation":
        action = str(node.get("action") or "")
        return names.get(action, action)
    if kind == "wait":
        after = str(node.get("after") or "")
        found = re.fullmatch(r"(\d+)\s*(wd|m|h|d)", after)
        return _t("wait", lang, _t(f"unit.{found[2]}", lang, found[1]) if found else after)
    return ""


def _people(
    entries: object, spec: Mapping[str, Any], locale: str, lang: str, names: Mapping[str, str]
) -> str:
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, list | tuple):
        return ""
    texts = [_resolver(e, spec, locale, lang, names) for e in entries if isinstance(e, Mapping)]
    return _t("sep", lang).join(dict.fromkeys(t for t in texts if t))


def _resolver(
    entry: Mapping[str, Any],
    spec: Mapping[str, Any],
    locale: str,
    lang: str,
    names: Mapping[str, str],
) -> str:
    name = str(entry.get("resolver") or "")

    def shown(key: str) -> str:
        value = str(entry.get(key) or "")
        return names.get(value, value)

    if name == "user":
        return shown("user")
    if name == "role":
        return _t("role", lang, shown("role"))
    if name == "department_head":
        dept = shown("department")
        return _t("department_head_of", lang, dept) if dept else _t("department_head", lang)
    if name == "manager":
        try:
            levels = int(entry.get("levels") or 1)
        except (TypeError, ValueError):
            levels = 1
        return _t("manager_levels", lang, levels) if levels > 1 else _t("manager", lang)
    if name == "field":
        fname = str(entry.get("field") or "")
        fdef = (spec.get("fields") or {}).get(fname)
        flabel = _pick(fdef.get("label"), locale) if isinstance(fdef, Mapping) else ""
        return _t("field", lang, names.get(fname) or flabel or fname)
    if name in ("initiator", "initiator_selected"):
        return _t(name, lang)
    return names.get(name, name)


# ----------------------------------------------------------------------------- graph


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


# ----------------------------------------------------------------------------- layout


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


# ----------------------------------------------------------------------------- drawing


def _rounded(points: list[tuple[float, float]], radius: float = 6.0) -> str:
    pts: list[tuple[float, float]] = []
    for p in points:
        if pts and abs(p[0] - pts[-1][0]) < 0.01 and abs(p[1] - pts[-1][1]) < 0.01:
            continue
        if len(pts) >= 2:
            (x0, y0), (x1, y1) = pts[-2], pts[-1]
            if abs((x1 - x0) * (p[1] - y1) - (y1 - y0) * (p[0] - x1)) < 0.01:
                pts[-1] = p  # collinear: extend the segment
                continue
        pts.append(p)
    d = [f"M{_n(pts[0][0])} {_n(pts[0][1])}"]
    for (x0, y0), (x1, y1), (x2, y2) in zip(pts, pts[1:], pts[2:], strict=False):
        l1, l2 = math.dist((x0, y0), (x1, y1)), math.dist((x1, y1), (x2, y2))
        r = min(radius, l1 / 2, l2 / 2)
        ax, ay = x1 - (x1 - x0) / l1 * r, y1 - (y1 - y0) / l1 * r
        bx, by = x1 + (x2 - x1) / l2 * r, y1 + (y2 - y1) / l2 * r
        d.append(f"L{_n(ax)} {_n(ay)}Q{_n(x1)} {_n(y1)} {_n(bx)} {_n(by)}")
    d.append(f"L{_n(pts[-1][0])} {_n(pts[-1][1])}")
    return "".join(d)


def _text(x: float, y: float, text: str, size: float, fill: str, extra: str = "") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}"{extra}>'
        f"{escape(text)}</text>"
    )


def _node(nid: str, v: _View, item: _Item, state: str, lang: str) -> str:
    classes = (
        f"node node-{v.kind}" + (f" {state}" if state else "") + (" disabled" if v.disabled else "")
    )
    tip = " · ".join(t for t in (v.label, _t(f"kind.{v.kind}", lang), v.summary) if t)
    if state:
        tip += f" ({_t(state, lang)})"
    w, h = v.w, v.h
    out = [
        f'<g class="{escape(classes)}" data-node="{escape(nid)}" '
        f'transform="translate({_n(item.x - w / 2)} {_n(item.top)})">',
        f"<title>{escape(tip)}</title>",
    ]
    card = v.kind in CARDS or v.kind == "other"
    radius = 8.0 if card else h / 2
    if state == "current":
        out.append(
            f'<rect x="-4" y="-4" width="{_n(w + 8)}" height="{_n(h + 8)}" rx="{_n(radius + 4)}" '
            f'fill="none" stroke="{BRAND}" stroke-opacity="0.2" stroke-width="4"/>'
        )
    if state == "current":
        stroke = BRAND
    elif v.disabled or not (card or v.kind == "decision"):
        stroke = "#b6c0cc"
    else:
        stroke = LINE if card else "#e3b95f"
    outline = (
        f'<rect x="0" y="0" width="{_n(w)}" height="{_n(h)}" rx="{_n(radius)}" fill="none" '
        f'stroke="{stroke}" stroke-width="{2 if state == "current" else 1}"'
        + (' stroke-dasharray="4 3"' if v.disabled else "")
        + "/>"
    )
    muted = v.disabled or state == "done"
    if card:
        accent, tint = COLOURS[v.kind]
        if v.disabled:
            accent, tint = FAINT, "#f4f6f9"
        badge = 18.0 if state == "done" else 0.0
        out += [
            f'<rect x="0" y="0" width="{_n(w)}" height="{_n(h)}" rx="8" '
            f'fill="{"#fafbfc" if v.disabled else "#fff"}"/>',
            f'<path d="M0 {_n(HEAD_H)}V8Q0 0 8 0H{_n(w - 8)}Q{_n(w)} 0 {_n(w)} 8V{_n(HEAD_H)}Z" '
            f'fill="{tint}"/>',
            _icon(v.kind, 9, 6, accent),
            _text(
                29,
                17.5,
                _fit(v.title, 13, w - 35 - badge, bold=True),
                13,
                accent,
                ' font-weight="600"',
            ),
        ]
        out += [
            _text(10, HEAD_H + 20 + 15 * j, line, 12, FAINT if muted else "#3e4a59")
            for j, line in enumerate(v.lines)
        ]
        if state == "done":
            out.append(_check(w - 14, 13))
    elif v.kind in PILLS:
        fill, accent = ("#fff8e6", "#7a5200") if v.kind == "decision" else ("#eef1f5", FG)
        out += [
            f'<rect x="0" y="0" width="{_n(w)}" height="{_n(h)}" rx="{_n(h / 2)}" fill="{fill}"/>',
            _icon(v.kind, 12, (h - 14) / 2, FAINT if v.disabled else accent),
            _text(
                31,
                h / 2 + 4.5,
                _fit(v.title, 13, w - 44, bold=True),
                13,
                FAINT if v.disabled else accent,
                ' font-weight="600"',
            ),
        ]
        if state == "done":
            out.append(_check(w - 4, 4))
    else:  # end
        out += [
            f'<rect x="0" y="0" width="{_n(w)}" height="{_n(h)}" rx="{_n(h / 2)}" fill="#eef1f5"/>',
            _text(w / 2, h / 2 + 4, v.title, 12, MUTED, ' text-anchor="middle"'),
        ]
    out += [outline, "</g>"]
    return "".join(out)


def _icon(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "cc":
        return (
            f'<g transform="translate({_n(x)} {_n(y + 1)})"><rect width="16" height="12" rx="3" '
            f'fill="{colour}"/><text x="8" y="9" font-size="7.5" font-weight="700" fill="#fff" '
            f'text-anchor="middle">CC</text></g>'
        )
    filled = ' fill="' + colour + '"' if kind == "automation" else ' fill="none"'
    return (
        f'<g transform="translate({_n(x)} {_n(y)})"{filled} stroke="{colour}" stroke-width="1.5" '
        f'stroke-linecap="round" stroke-linejoin="round">{ICONS.get(kind, ICONS["other"])}</g>'
    )


def _check(cx: float, cy: float) -> str:
    return (
        f'<g class="check" transform="translate({_n(cx)} {_n(cy)})"><circle r="7" fill="#e6f4ef" '
        f'stroke="#9ccbb8"/><path d="M-3 0l2 2 4-4" fill="none" stroke="{BRAND}" '
        f'stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/></g>'
    )


def _svg(
    spec: Mapping[str, Any],
    lay: _Layout,
    views: Mapping[str, _View],
    current: set[str],
    passed: set[str],
    locale: str,
    lang: str,
    uid: str,
) -> str:
    items = lay.items
    xs = [(i.x - i.w / 2, i.x + i.w / 2) for i in items] + [
        (lb.x - lb.w / 2, lb.x + lb.w / 2) for lb in lay.labels
    ]
    left = min((a for a, _ in xs), default=0.0) - MARGIN
    width = max((b for _, b in xs), default=0.0) + MARGIN - left
    if width < MIN_VIEW_W:  # phones scale the drawing to the column (suite.css): not narrow ones up
        left, width = left - (MIN_VIEW_W - width) / 2, MIN_VIEW_W
    height = lay.height
    name = _pick(spec.get("label"), locale) or str(spec.get("key") or "")
    aria = f"{name} · {_t('flow', lang)}" if name else _t("flow", lang)
    arrow, arrow_done = f"flow-{uid}-arrow", f"flow-{uid}-arrow-done"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow" role="img" '
        f'aria-label="{escape(aria)}" width="100%" height="{_n(height)}" '
        f'viewBox="{_n(left)} 0 {_n(width)} {_n(height)}" preserveAspectRatio="xMidYMin meet" '
        f'font-family="{FONT}">',
        f"<title>{escape(aria)}</title>",
        "<defs>",
    ]
    for mid, colour in ((arrow, EDGE), (arrow_done, BRAND)):
        out.append(
            f'<marker id="{mid}" viewBox="0 0 8 8" refX="7.5" refY="4" markerWidth="8" '
            f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0 .5L7.5 4 0 7.5z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    reached = current | passed
    walked = [e.src in reached and e.dst in reached for e in lay.edges]
    out.append(f'<g class="flow-edges" fill="none" stroke-width="1.5" stroke="{EDGE}">')
    for i in sorted(range(len(lay.edges)), key=walked.__getitem__):
        extra = f' stroke="{BRAND}"' if walked[i] else ""
        out.append(
            f'<path d="{_rounded(lay.points(i))}"{extra} '
            f'marker-end="url(#{arrow_done if walked[i] else arrow})"/>'
        )
    for lo, hi, y in lay.bars:
        out.append(
            f'<path d="M{_n(lo)} {_n(y)}H{_n(hi)}" stroke="{MUTED}" stroke-width="3" '
            f'stroke-linecap="round"/>'
        )
    out.append("</g>")
    for lb in lay.labels:
        default = lay.edges[lb.edge].kind == "default"
        fill, stroke, colour = (
            ("#f4f6f9", LINE, MUTED) if default else ("#fff8e6", "#ecd49a", "#7a5200")
        )
        full = lay.edges[lb.edge].text or lb.lines[0]
        out.append(
            f'<g class="flow-cond"><title>{escape(full)}</title>'
            f'<rect x="{_n(lb.x - lb.w / 2)}" y="{_n(lb.top)}" width="{_n(lb.w)}" '
            f'height="{_n(lb.h)}" rx="{_n(min(lb.h / 2, 10))}" fill="{fill}" stroke="{stroke}"/>'
        )
        for j, line in enumerate(lb.lines):
            out.append(
                _text(
                    lb.x,
                    lb.top + 15 + j * LABEL_LINE,
                    line,
                    LABEL_SIZE,
                    colour,
                    ' text-anchor="middle"',
                )
            )
        out.append("</g>")
    out.append('<g class="flow-nodes">')
    for nid, v in views.items():
        state = "current" if nid in current else "done" if nid in passed else ""
        out.append(_node(nid, v, items[lay.index[nid]], state, lang))
    out.append("</g></svg>")
    return "\n".join(out)
