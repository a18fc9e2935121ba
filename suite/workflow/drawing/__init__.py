"""Process flow drawings: a compiled spec (docs/WORKFLOW.md 2.1) as an inline, script-free SVG.

Drawn top to bottom like DingTalk's approval designer. The layout is a small Sugiyama pass:
layers by longest path from the start; long edges run through lane points shared per target
(skip edges such as a decision's "other" become one lane); a barycenter pass against crossings;
chains of single successors aligned into straight columns; orthogonal edges with rounded bends.
Only presentation attributes are used: the CSP (style-src 'self') forbids style attributes.
Display names live in `TEXT` (zh_CN and en) because the SVG is rendered for one locale and this
package must not depend on a request (no gettext).

`render_flow` runs the steps, one sub-module each: `graph` (nodes and acyclic edges), `summaries`
(each node's title, summary and size, worded by `text`), `layout` (positions and edge routes) and
`svg` (the markup); `shapes` holds the kinds and sizes they share. Names with a leading
underscore are private to this package.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from markupsafe import Markup

from suite.workflow.drawing.graph import _graph
from suite.workflow.drawing.layout import _Layout
from suite.workflow.drawing.summaries import _view
from suite.workflow.drawing.svg import _svg
from suite.workflow.drawing.text import TEXT, _t, node_label

__all__ = ["TEXT", "node_label", "render_flow"]


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
