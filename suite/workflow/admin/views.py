"""Admin pages for processes: the list, the draft editor and its sections (WORKFLOW 2).

Each section (params, one node) is posted on its own and saved into the draft overlay; simulate,
publish and discard are in `publish`.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import abort, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.auth.permissions import require
from suite.db import db
from suite.templating import current_locale
from suite.views import bp
from suite.web import redirect_to, render_page, wants_fragment
from suite.workflow import definitions
from suite.workflow.admin import overlay
from suite.workflow.admin.editor import (
    CHANGED,
    PAGE,
    PERMISSION,
    _context,
    _load,
    _page,
    _render,
    _summary,
    fragment_id,
)
from suite.workflow.models import ProcessDefinition


@bp.route("/admin/processes")
@require(PERMISSION)
def process_list() -> Response:
    rows = []
    for key, template in sorted(definitions.templates().items()):
        definition = definitions.definition_for(key)  # installs v1 on first open
        rows.append(_summary(definition, template))
    db.session.commit()
    return render_page(
        "workflow/admin/process_list.html",
        "workflow/admin/_process_rows.html",
        "process-rows",
        rows=rows,
    )


@bp.route("/admin/processes/<int:process_definition_id>")
@require(PERMISSION)
def process_edit(process_definition_id: int) -> Response:
    definition, template = _load(process_definition_id)
    return _page(definition, _context(definition, template))


def _section(
    definition: ProcessDefinition,
    ctx: dict[str, Any],
    target: str,
    fragment: str,
    ok: bool,
    **extra: Any,
) -> Response:
    """After a section was posted: its fragment (HTMX) or a redirect / the page (plain form)."""
    if wants_fragment(target):
        resp = make_response(
            render_template(f"workflow/admin/{fragment}.html", **ctx, **extra), 200 if ok else 422
        )
        resp.vary.add("HX-Request")
        if ok:
            resp.headers["HX-Trigger"] = CHANGED
        return resp
    if ok:
        return redirect_to(
            "suite.process_edit",
            _("Saved."),
            process_definition_id=definition.id,
            _anchor=target,
        )
    return _render(PAGE, ctx, 200 if ok else 422)


def _save_draft(definition: ProcessDefinition, update: Any) -> None:
    draft = copy.deepcopy(definition.draft or {})
    update(draft)
    draft = {k: v for k, v in draft.items() if v}
    definition.draft = draft  # a new dict: SQLAlchemy sees the change (and audits it)
    db.session.commit()


@bp.route("/admin/processes/<int:process_definition_id>/params", methods=["POST"])
@require(PERMISSION)
def process_params(process_definition_id: int) -> Response:
    definition, template = _load(process_definition_id)
    params, values, errors = overlay.parse_params(template, request.form)
    if not errors:
        _save_draft(definition, lambda draft: draft.__setitem__("params", params))
    state = {"values": values, "errors": errors} if errors else {"saved": True}
    ctx = _context(definition, template, params=state)
    return _section(
        definition, ctx, fragment_id(definition, "params"), "_process_params", not errors
    )


@bp.route("/admin/processes/<int:process_definition_id>/nodes/<node_id>", methods=["POST"])
@require(PERMISSION)
def process_node(process_definition_id: int, node_id: str) -> Response:
    definition, template = _load(process_definition_id)
    template_node = template["nodes"].get(node_id)
    if template_node is None or template_node.get("kind") not in overlay.EDITABLE_KINDS:
        abort(404)
    spec = definitions.merge(template, definition.draft or {})
    if template_node.get("kind") == "decision":
        entry, cases, errors = overlay.parse_cases(template_node, spec, request.form)
        state: dict[str, Any] = {"cases": cases}
    else:
        choices = overlay.workspace_choices(spec, current_locale())
        entry, values, errors = overlay.parse_node(
            node_id, template_node, spec["nodes"][node_id], request.form, choices
        )
        state = {"values": values}
    if not errors:

        def update(draft: dict[str, Any]) -> None:
            nodes = draft.setdefault("nodes", {})
            nodes.pop(node_id, None)
            if entry:
                nodes[node_id] = entry

        _save_draft(definition, update)
    state |= {"errors": errors, "saved": not errors}
    if not errors:
        state.pop("values", None)  # show what was stored
        state.pop("cases", None)
    ctx = _context(definition, template, node=node_id, node_state=state)
    node = next(n for n in ctx["nodes"] if n["id"] == node_id)
    target = fragment_id(definition, f"node-{node_id}")
    return _section(definition, ctx, target, "_process_node", not errors, node=node)
