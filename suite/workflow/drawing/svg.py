"""The markup: the laid-out nodes, edges and condition labels as SVG with presentation attributes.

Every text is escape()d; ids are made unique per drawing so two flows can share a page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from markupsafe import escape

from suite.workflow.drawing.layout import _Item, _Layout
from suite.workflow.drawing.shapes import (
    CARDS,
    HEAD_H,
    LABEL_LINE,
    LABEL_SIZE,
    MARGIN,
    MIN_VIEW_W,
    PILLS,
)
from suite.workflow.drawing.summaries import _View
from suite.workflow.drawing.text import _fit, _pick, _t

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


def _n(value: float) -> str:
    return f"{round(value, 1) + 0.0:g}"


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
