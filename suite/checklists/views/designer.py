"""The checklist designer: templates, their draft (sections, items, rules, weights), versions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from suite.auth.permissions import require
from suite.checklists import services
from suite.checklists import spec as specs
from suite.checklists.forms import ChecklistTemplateForm
from suite.checklists.models import ITEM_TYPES, ChecklistTemplate, ChecklistTemplateVersion
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views import bp
from suite.views.pagination import keyset
from suite.web import redirect_to, render_form, render_page

TYPE_LABELS = {
    "pass_fail": _l("Pass / fail / N/A"),
    "yes_no": _l("Yes / no / N/A"),
    "number": _l("Number with range"),
    "text": _l("Text"),
    "select": _l("Choice from a list"),
    "date": _l("Date"),
    "photo": _l("Photo"),
    "signature": _l("Signature"),
}
RULE_LABELS = {
    "require_photo": _l("Photo required"),
    "require_note": _l("Note required"),
    "corrective_action": _l("Open a corrective action"),
    "notify": _l("Notify the area owner"),
}
assert set(TYPE_LABELS) == set(ITEM_TYPES)


@bp.route("/checklists/templates")
@require("suite.checklist.design")
def checklist_template_list() -> Response:
    page = keyset(sa.select(ChecklistTemplate), ChecklistTemplate.id)
    return render_page(
        "checklists/template_list.html",
        "checklists/_template_rows.html",
        "template-rows",
        items=page.items,
        next_after=page.next_after,
    )


@bp.route("/checklists/templates/new", methods=["GET", "POST"])
@require("suite.checklist.design")
def checklist_template_new() -> Response:
    form = ChecklistTemplateForm()
    if form.validate_on_submit():
        try:
            template = services.save_template(
                None, name=form.name.data, description=form.description.data or ""
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors.append(exc.message)
        else:
            db.session.commit()
            return redirect_to(
                "suite.checklist_template_detail",
                _("Saved."),
                checklist_template_id=template.id,
            )
    return render_form(
        "checklists/template_new.html", "checklists/_template_form.html", "template-form", form
    )


def designer_page(
    template: ChecklistTemplate,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    notice: str | None = None,
) -> Response:
    versions = list(
        db.session.scalars(
            sa.select(ChecklistTemplateVersion)
            .where(ChecklistTemplateVersion.template_id == template.id)
            .order_by(ChecklistTemplateVersion.number.desc())
        )
    )
    current = next((v for v in versions if v.id == template.current_version_id), None)
    return render_page(
        "checklists/template_detail.html",
        "checklists/_template_draft.html",
        f"template-{template.id}-draft",
        status=status,
        template=template,
        draft=template.draft or {"sections": []},
        versions=versions,
        changed=current is None or current.spec != template.draft,
        errors=errors or {},
        values=values or {},
        notice=notice,
        types=TYPE_LABELS,
        rules=RULE_LABELS,
        scored=specs.can_fail,
        form=ChecklistTemplateForm(obj=template),
    )


def _template(checklist_template_id: int) -> ChecklistTemplate:
    return get_or_404(ChecklistTemplate, checklist_template_id)


@bp.route("/checklists/templates/<int:checklist_template_id>")
@require("suite.checklist.design")
def checklist_template_detail(checklist_template_id: int) -> Response:
    return designer_page(_template(checklist_template_id))


def _change(
    checklist_template_id: int, action: Any, *, values: dict[str, dict[str, Any]] | None = None
) -> Response:
    """Apply one draft change; a refusal answers 422 with the message next to its field."""
    template = _template(checklist_template_id)
    try:
        action(template)
    except DomainError as exc:
        db.session.rollback()
        template = _template(checklist_template_id)
        return designer_page(
            template, status=422, errors={exc.field or "_": exc.message}, values=values
        )
    db.session.commit()
    return designer_page(template, notice=_("Saved."))


@bp.route("/checklists/templates/<int:checklist_template_id>/edit", methods=["POST"])
@require("suite.checklist.design")
def checklist_template_edit(checklist_template_id: int) -> Response:
    form = ChecklistTemplateForm()
    if not form.validate():
        template = _template(checklist_template_id)
        errors = {f"template.{k}": v[0] for k, v in form.errors.items()}
        return designer_page(template, status=422, errors=errors)
    return _change(
        checklist_template_id,
        lambda t: services.save_template(
            t, name=form.name.data, description=form.description.data or ""
        ),
    )


@bp.route("/checklists/templates/<int:checklist_template_id>/sections", methods=["POST"])
@require("suite.checklist.design")
def checklist_template_section_add(checklist_template_id: int) -> Response:
    title = request.form.get("section_title", "")
    return _change(checklist_template_id, lambda t: services.add_section(t, title))


def _index(name: str) -> int:
    return request.form.get(name, -1, type=int)


@bp.route("/checklists/templates/<int:checklist_template_id>/sections/edit", methods=["POST"])
@require("suite.checklist.design")
def checklist_template_section_edit(checklist_template_id: int) -> Response:
    index = _index("section")
    if request.form.get("remove"):
        return _change(checklist_template_id, lambda t: services.remove_section(t, index))
    title = request.form.get("title", "")
    return _change(checklist_template_id, lambda t: services.rename_section(t, index, title))


@bp.route("/checklists/templates/<int:checklist_template_id>/items", methods=["POST"])
@require("suite.checklist.design")
def checklist_template_item_add(checklist_template_id: int) -> Response:
    index = _index("section")
    kind = request.form.get("type", "")
    return _change(checklist_template_id, lambda t: services.add_item(t, index, kind))


@bp.route("/checklists/templates/<int:checklist_template_id>/items/<item_key>", methods=["POST"])
@require("suite.checklist.design")
def checklist_template_item_edit(checklist_template_id: int, item_key: str) -> Response:
    """Save an item's fields, or move / remove it (the button pressed says which)."""
    action = request.form.get("action", "save")
    if action == "remove":
        return _change(checklist_template_id, lambda t: services.remove_item(t, item_key))
    if action in ("up", "down"):
        step = -1 if action == "up" else 1
        return _change(checklist_template_id, lambda t: services.move_item(t, item_key, step))
    values: dict[str, Any] = {k: request.form.get(k) for k in ("label", "weight", "min", "max")}
    values |= {"unit": request.form.get("unit"), "options": request.form.get("options", "")}
    values |= {k: request.form.get(k) for k in ("required", *specs.RULES)}

    def save(t: ChecklistTemplate) -> None:
        try:
            services.update_item(t, item_key, values)
        except DomainError as exc:
            raise DomainError(exc.message, f"{item_key}.{exc.field}") from None

    return _change(checklist_template_id, save, values={item_key: values})


@bp.route("/checklists/templates/<int:checklist_template_id>/publish", methods=["POST"])
@require("suite.checklist.design")
def checklist_template_publish(checklist_template_id: int) -> Response:
    template = _template(checklist_template_id)
    try:
        version = services.publish(template, g.membership)
    except specs.SpecError as exc:
        db.session.rollback()
        return designer_page(_template(checklist_template_id), status=422, errors=exc.errors)
    db.session.commit()
    return designer_page(
        template, notice=_("Published as version %(n)d. New checklists use it.", n=version.number)
    )


@bp.route(
    "/checklists/templates/<int:checklist_template_id>/versions/<int:checklist_template_version_id>"
)
@require("suite.checklist.design")
def checklist_template_version(
    checklist_template_id: int, checklist_template_version_id: int
) -> Response:
    template = _template(checklist_template_id)
    version = get_or_404(ChecklistTemplateVersion, checklist_template_version_id)
    if version.template_id != template.id:
        from flask import abort

        abort(404)
    return render_page(
        "checklists/template_version.html",
        "checklists/template_version.html",
        f"version-{version.id}",
        template=template,
        version=version,
        types=TYPE_LABELS,
        rules=RULE_LABELS,
    )
