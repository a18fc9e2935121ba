"""The process editor's page (WORKFLOW 2): a definition loaded with its template, and everything
the page and its refreshable fragments show, for the views in `views` and `publish`.

The editor edits `ProcessDefinition.draft` (an overlay) one section at a time; nothing reaches a
running or new instance until "publish" stores the draft as the next immutable version. Names with
a leading underscore are private to this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import abort, g, make_response, render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.auth.forms import member_choices
from suite.auth.models import Membership, User
from suite.db import db
from suite.templating import current_locale
from suite.tenancy import get_or_404
from suite.web import wants_fragment
from suite.workflow import definitions
from suite.workflow.admin import overlay
from suite.workflow.conditions import ConditionError, compile_condition
from suite.workflow.drawing import node_label, render_flow
from suite.workflow.models import ProcessDefinition, ProcessVersion
from suite.workflow.resolvers import RESOLVERS

PERMISSION = "suite.workflow.design"
CHANGED = "suite:process-changed"  # a draft section was saved: the flow and status refresh
PUBLISHED = "suite:process-published"
PAGE = "workflow/admin/process_edit.html"


def _summary(
    definition: ProcessDefinition,
    template: Mapping[str, Any],
    versions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    versions = _versions(definition) if versions is None else versions
    current = next((v for v in versions if v["id"] == definition.current_version_id), None)
    return {
        "definition": definition,
        "label": overlay.pick(template.get("label"), current_locale()) or definition.key,
        "current": current,
        "older_running": [v for v in versions if v is not current and v["running"]],
        "changed": _changed(definition),
    }


def _versions(definition: ProcessDefinition) -> list[dict[str, Any]]:
    running = definitions.instances_per_version(definition)
    rows = db.session.execute(
        sa.select(ProcessVersion, User.display_name)
        .outerjoin(Membership, Membership.id == ProcessVersion.published_by_id)
        .outerjoin(User, User.id == Membership.user_id)
        .where(ProcessVersion.definition_id == definition.id)
        .order_by(ProcessVersion.number.desc())
    ).all()
    return [
        {
            "id": v.id,
            "number": v.number,
            "published_at": v.published_at,
            "published_by": name,
            "running": running.get(v.number, 0),
            "overlay": v.overlay,
        }
        for v, name in rows
    ]


def _changed(definition: ProcessDefinition) -> bool:
    current = db.session.get(ProcessVersion, definition.current_version_id)
    return (definition.draft or {}) != (current.overlay if current else {})


def _load(process_definition_id: int) -> tuple[ProcessDefinition, dict[str, Any]]:
    definition = get_or_404(ProcessDefinition, process_definition_id)
    template = definitions.templates().get(definition.key)
    if template is None:
        abort(404)  # the module that shipped it is no longer loaded
    return definition, template


def fragment_id(definition: ProcessDefinition, part: str) -> str:
    return f"process-{definition.id}-{part}"


def _context(
    definition: ProcessDefinition, template: Mapping[str, Any], **posted: Any
) -> dict[str, Any]:
    """Everything the editor page shows; `posted` replaces one section with what was sent."""
    locale = current_locale()
    draft = definition.draft or {}
    spec = definitions.merge(template, draft)
    choices = overlay.workspace_choices(spec, locale)
    versions = _versions(definition)
    summary = _summary(definition, template, versions)
    nodes = [
        _node_view(definition, template, spec, node_id, locale)
        for node_id in overlay.editable_nodes(spec)
    ]
    labels = [n["label"] for n in nodes]
    for node in nodes:
        if labels.count(node["label"]) > 1:  # two "Finance review" steps: say which is which
            node["arrivals"] = overlay.arrivals(spec, node["id"], locale)
        if posted.get("node") == node["id"]:
            node.update(posted["node_state"], open=True)
    params = _param_views(template, spec, locale, posted.get("params"))
    return {
        **summary,
        "template": template,
        "spec": spec,
        "versions": versions,
        "choices": choices,
        "flow": render_flow(spec, label_locale=locale, labels=choices.labels(spec["nodes"])),
        "params": params,
        "params_state": posted.get("params") or {},
        "nodes": nodes,
        "simulate": posted.get("simulate") or _simulate_defaults(spec),
        "publish": posted.get("publish") or {},
        "members": _members(),
        "resolver_names": _resolver_names(),
        "fid": lambda part: fragment_id(definition, part),
    }


def _param_views(
    template: Mapping[str, Any],
    spec: Mapping[str, Any],
    locale: str,
    posted: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    used: dict[str, list[str]] = {}
    names = set(overlay.field_specs(spec)) | set(spec.get("params") or {})
    for node_id, node in (spec.get("nodes") or {}).items():
        for case in node.get("cases") or ():
            try:
                cond = compile_condition(str(case.get("when", "")), names)
            except ConditionError:
                continue
            for name in cond.names_used:
                used.setdefault(name, [])
                label = node_label(node_id, node, locale)
                if label not in used[name]:
                    used[name].append(label)
    views = []
    for name, default in (template.get("params") or {}).items():
        value = (spec.get("params") or {}).get(name, default)
        kind = overlay.param_kind(default)
        shown = (posted or {}).get("values", {}).get(name)
        views.append(
            {
                "name": name,
                "kind": kind,
                "value": shown
                if shown is not None
                else (value is True if kind == "bool" else overlay.param_text(value)),
                "default": overlay.param_text(default),
                "changed": value != default,
                "used_in": used.get(name, []),
                "errors": (posted or {}).get("errors", {}).get(f"param-{name}", []),
            }
        )
    return views


def _node_view(
    definition: ProcessDefinition,
    template: Mapping[str, Any],
    spec: Mapping[str, Any],
    node_id: str,
    locale: str,
) -> dict[str, Any]:
    node = spec["nodes"][node_id]
    template_node = template["nodes"].get(node_id, node)
    view: dict[str, Any] = {
        "id": node_id,
        "kind": node.get("kind"),
        "label": node_label(node_id, node, locale),
        "optional": bool(template_node.get("optional")),
        "disabled": node.get("enabled") is False,
        "changed": node_id in ((definition.draft or {}).get("nodes") or {}),
        "errors": {},
        "open": False,
        "saved": False,
    }
    if node.get("kind") == "decision":
        view["cases"] = overlay.case_values(template_node, node, spec, locale)
        view["targets"] = {
            n: node_label(n, spec["nodes"][n], locale)
            for n in [c.get("next") for c in node.get("cases") or ()] + [node.get("default")]
            if n in spec["nodes"]
        }
        view["default"] = node.get("default")
    else:
        view["values"] = overlay.node_values(node)
    return view


def _members() -> list[tuple[int, str]]:
    return member_choices(blank=False)


def _resolver_names() -> list[tuple[str, str]]:
    """The approver rules in the order the select offers them."""
    names = {
        "department_head": _("Department head"),
        "manager": _("Managers up the chain"),
        "role": _("Role"),
        "user": _("Person"),
        "field": _("Person named in a form field"),
        "initiator_selected": _("Chosen by the requester"),
        "initiator": _("The requester"),
    }
    return [(k, v) for k, v in names.items() if k in RESOLVERS]


def _render(template: str, ctx: dict[str, Any], status: int = 200) -> Response:
    resp = make_response(render_template(template, **ctx), status)
    resp.vary.add("HX-Request")
    resp.vary.add("HX-Target")
    return resp


def _page(definition: ProcessDefinition, ctx: dict[str, Any], status: int = 200) -> Response:
    """The editor, or one of its refreshable fragments (flow, status) for an HTMX request."""
    for part, fragment in (("flow", "_process_flow"), ("publish", "_process_status")):
        if wants_fragment(fragment_id(definition, part)):
            return _render(f"workflow/admin/{fragment}.html", ctx, status)
    return _render(PAGE, ctx, status)


def _simulate_defaults(spec: Mapping[str, Any]) -> dict[str, Any]:
    values = {}
    for name, field in overlay.field_specs(spec).items():
        options = field.get("options") or []
        values[name] = str(options[0]) if field.get("type") == "select" and options else ""
    return {"values": values, "initiator": g.membership.id, "errors": {}, "steps": None}
