"""Admin pages for processes: the list, the draft editor, simulate and publish (WORKFLOW 2).

The editor edits `ProcessDefinition.draft` (an overlay) one section at a time; nothing reaches a
running or new instance until "publish" stores the draft as the next immutable version.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, g, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.auth.models import Membership, User
from suite.auth.permissions import require
from suite.db import db
from suite.templating import current_locale
from suite.tenancy import get_or_404
from suite.views import bp
from suite.web import redirect_to, render_page, wants_fragment
from suite.workflow import definitions, preview
from suite.workflow.admin import overlay
from suite.workflow.conditions import ConditionError, compile_condition
from suite.workflow.drawing import node_label, render_flow
from suite.workflow.models import ProcessDefinition, ProcessVersion

PERMISSION = "suite.workflow.design"
CHANGED = "suite:process-changed"  # a draft section was saved: the flow and status refresh
PUBLISHED = "suite:process-published"
PAGE = "workflow/admin/process_edit.html"


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


# --- the editor -----------------------------------------------------------------------------------


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
    rows = db.session.execute(
        sa.select(Membership.id, User.display_name, User.login)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True))
        .order_by(User.display_name)
    ).all()
    return [(r.id, f"{r.display_name} ({r.login})") for r in rows]


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
    return [(k, v) for k, v in names.items() if k in overlay.RESOLVERS]


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


# --- simulate and publish -------------------------------------------------------------------------


def _simulate_defaults(spec: Mapping[str, Any]) -> dict[str, Any]:
    values = {}
    for name, field in overlay.field_specs(spec).items():
        options = field.get("options") or []
        values[name] = str(options[0]) if field.get("type") == "select" and options else ""
    return {"values": values, "initiator": g.membership.id, "errors": {}, "steps": None}


@bp.route("/admin/processes/<int:process_definition_id>/simulate", methods=["POST"])
@require(PERMISSION)
def process_simulate(process_definition_id: int) -> Response:
    """The path and approvers a document with these values would get on the draft."""
    definition, template = _load(process_definition_id)
    draft = definition.draft or {}
    spec = definitions.merge(template, draft)
    state = _simulate_defaults(spec)
    errors = overlay.Errors()
    values: dict[str, Any] = {}
    for name, field in overlay.field_specs(spec).items():
        text = str(request.form.get(f"value-{name}", "")).strip()
        state["values"][name] = text
        if field.get("type") in ("money", "number") and text:
            number = overlay.to_number(text)
            if number is None:
                errors.add(name, _("Enter a number, e.g. 5000 or 4999.50."))
            values[name] = Decimal(str(number)) if number is not None else None
        elif field.get("type") == "select" and text not in [
            str(o) for o in field.get("options") or ()
        ]:
            errors.add(name, _("Not a valid choice."))
        else:
            values[name] = text
    initiator = overlay.to_int(request.form.get("initiator"))
    if initiator not in {m for m, _label in _members()}:
        errors.add("initiator", _("Choose who submits the request."))
    state |= {"initiator": initiator, "errors": errors}
    problems = definitions.validate(spec, draft)
    if problems:
        state["problems"] = problems
    elif not errors:
        locale = current_locale()
        steps = preview.preview(spec, values, initiator, locale=locale)
        state["steps"] = [
            {
                "node": s.node,
                "label": s.label,
                "kind": spec["nodes"][s.node].get("kind"),
                "names": s.names,
            }
            for s in steps
        ]
    ctx = _context(definition, template, simulate=state)
    target = fragment_id(definition, "simulate")
    fragment = "workflow/admin/_process_simulate.html" if wants_fragment(target) else PAGE
    return _render(fragment, ctx, 422 if errors else 200)


@bp.route("/admin/processes/<int:process_definition_id>/publish", methods=["POST"])
@require(PERMISSION)
def process_publish(process_definition_id: int) -> Response:
    definition, template = _load(process_definition_id)
    draft = copy.deepcopy(definition.draft or {})
    spec = definitions.merge(template, draft)
    choices = overlay.workspace_choices(spec, current_locale())
    problems = definitions.validate(spec, draft) + overlay.draft_problems(
        spec, template, choices, current_locale()
    )
    target = fragment_id(definition, "publish")
    if not problems and not _changed(definition):
        current = db.session.get(ProcessVersion, definition.current_version_id)
        message = _(
            "Nothing to publish: the draft is the same as v%(number)s.",
            number=current.number if current else 1,
        )
        if not wants_fragment(target):
            return redirect_to("suite.process_edit", message, process_definition_id=definition.id)
        ctx = _context(definition, template, publish={"message": message})
        return render_page(PAGE, "workflow/admin/_process_status.html", target, **ctx)
    if not problems:
        try:
            version = definitions.publish(definition, draft, by=g.membership.id)
        except definitions.DefinitionError as exc:
            db.session.rollback()
            problems = exc.problems
    if problems:
        ctx = _context(definition, template, publish={"problems": problems})
        return render_page(PAGE, "workflow/admin/_process_status.html", target, status=422, **ctx)
    db.session.commit()
    older = sum(
        count
        for number, count in definitions.instances_per_version(definition).items()
        if number != version.number
    )
    message = _(
        "v%(number)s published; requests still running on older versions: %(count)s.",
        number=version.number,
        count=older,
    )
    if not wants_fragment(target):
        return redirect_to("suite.process_edit", message, process_definition_id=definition.id)
    ctx = _context(definition, template, publish={"message": message})
    resp = render_page(PAGE, "workflow/admin/_process_status.html", target, **ctx)
    resp.headers["HX-Trigger"] = PUBLISHED
    return resp


@bp.route("/admin/processes/<int:process_definition_id>/discard", methods=["POST"])
@require(PERMISSION)
def process_discard(process_definition_id: int) -> Response:
    """Throw the draft away: back to the current version's settings."""
    definition, _template = _load(process_definition_id)
    current = db.session.get(ProcessVersion, definition.current_version_id)
    definition.draft = copy.deepcopy(current.overlay if current else {})
    db.session.commit()
    return redirect_to(
        "suite.process_edit",
        _("The draft is back to v%(number)s.", number=current.number if current else 1),
        process_definition_id=definition.id,
    )
