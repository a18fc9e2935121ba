"""Server-rendered SVG charts for the inspections dashboard (no script, print-safe).

Each function returns markup for one `<svg role="img">` with a `<title>`; the page puts a table
with the same numbers next to it, so the chart is never the only way to read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#9ca3af")
STATUS_COLORS = {"done": "#059669", "due": "#9ca3af", "missed": "#dc2626"}
FONT = 'font-family="Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"'


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    # every text that came from data went through escape() where the parts were built
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart" {FONT} '
        f'font-size="11"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _legend(x: int, y: int, items: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for label, color in items:
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="{y}">{escape(label)}</text>')
        x += 22 + 7 * len(str(label)) + 6 * sum(ord(ch) > 0x2E80 for ch in str(label))
    return out


def stacked_columns(
    title: str,
    columns: Sequence[tuple[str, dict[str, int]]],
    series: Sequence[tuple[str, str, str]],
) -> Markup:
    """Columns (label, {key: n}) stacked by `series` (key, label, color): rounds by week."""
    width, height, left, bottom, top = 560, 220, 34, 36, 26
    plot_h = height - top - bottom
    biggest = max([sum(v.values()) for _l, v in columns] + [1])
    biggest += biggest % 2 if biggest > 1 else 1  # even: whole numbers on the middle line
    step = (width - left - 10) / max(len(columns), 1)
    bar = min(36.0, step * 0.6)
    body = [_axis(left, top, width, plot_h, biggest)]
    for i, (label, values) in enumerate(columns):
        x = left + i * step + (step - bar) / 2
        y = top + plot_h
        for key, _name, color in series:
            n = values.get(key, 0)
            if not n:
                continue
            h = plot_h * n / biggest
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{color}"><title>{escape(label)}: {n}</title></rect>'
            )
        body.append(
            f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
            f"{escape(label[-3:])}</text>"
        )
    body += _legend(left, height - 6, [(name, color) for _k, name, color in series])
    return _svg(width, height, title, body)


def _axis(left: int, top: int, width: int, plot_h: float, biggest: float, pct: bool = False) -> str:
    lines = []
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        value = f"{int(frac * 100)}%" if pct else f"{frac * biggest:g}"
        lines.append(
            f'<line x1="{left}" x2="{width - 6}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#6b7280">{value}</text>'
        )
    return "".join(lines)


def grouped_percent(
    title: str, weeks: Sequence[str], groups: dict[str, dict[str, Decimal | None]]
) -> Markup:
    """Per week, one column per group (site) with its percentage: pass rate by site and week."""
    width, height, left, bottom, top = 560, 230, 40, 40, 26
    plot_h = height - top - bottom
    names = list(groups)
    step = (width - left - 10) / max(len(weeks), 1)
    bar = max(3.0, min(18.0, step * 0.8 / max(len(names), 1)))
    body = [_axis(left, top, width, plot_h, 100, pct=True)]
    for i, week in enumerate(weeks):
        x0 = left + i * step + (step - bar * len(names)) / 2
        for j, name in enumerate(names):
            value = groups[name].get(week)
            if value is None:
                continue
            h = plot_h * float(value) / 100
            body.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(name)} {escape(week)}: {value}%</title></rect>"
            )
        body.append(
            f'<text x="{left + i * step + step / 2:.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle">{escape(week[-3:])}</text>'
        )
    body += _legend(left, height - 6, [(n, PALETTE[j % len(PALETTE)]) for j, n in enumerate(names)])
    return _svg(width, height, title, body)


def horizontal_bars(title: str, rows: Sequence[tuple[str, int]], color: str = "#dc2626") -> Markup:
    """One bar per (label, n), longest first as given: the items that fail most."""
    width, row_h, label_w = 560, 24, 230
    height = max(len(rows), 1) * row_h + 8
    biggest = max([n for _l, n in rows] + [1])
    body = []
    for i, (label, n) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 40) * n / biggest
        short = label if len(label) <= 30 else label[:29] + "…"
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{color}">'
            f"<title>{escape(label)}: {n}</title></rect>"
            f'<text x="{label_w + w + 5:.1f}" y="{y + 15}">{n}</text>'
        )
    return _svg(width, height, title, body)
