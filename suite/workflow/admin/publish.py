"""Simulate, publish and discard a process draft (WORKFLOW 2).

Simulate shows the path and approvers a document would get on the draft; publish stores the draft
as the next immutable version after every check passed; discard resets it to the current version.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from flask import g, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.auth.permissions import require
from suite.db import db
from suite.templating import current_locale
from suite.views import bp
from suite.web import redirect_to, render_page, wants_fragment
from suite.workflow import definitions, preview
from suite.workflow.admin import overlay
from suite.workflow.admin.editor import (
    PAGE,
    PERMISSION,
    PUBLISHED,
    _changed,
    _context,
    _load,
    _members,
    _render,
    _simulate_defaults,
    fragment_id,
)
from suite.workflow.models import ProcessVersion


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
