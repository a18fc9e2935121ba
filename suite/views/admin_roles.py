"""Admin: roles and the permissions they grant (the manifests' permissions as checkboxes)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.audit.timeline import timeline_for
from suite.auth.forms import RoleForm
from suite.auth.models import Role
from suite.auth.permissions import require
from suite.auth.services import save_role
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views import bp
from suite.web import redirect_to, render_form, render_page


def _permission_choices() -> list[tuple[str, str]]:
    registry = current_app.extensions["suite.registry"]
    return [(code, f"{p.label} ({code})") for code, p in sorted(registry.permissions.items())]


@bp.route("/admin/roles")
@require("suite.role.manage")
def role_list() -> Response:
    roles = db.session.scalars(sa.select(Role).order_by(Role.builtin.desc(), Role.code)).all()
    return render_page("admin/role_list.html", "admin/_role_rows.html", "role-rows", roles=roles)


def _save(form: RoleForm, role: Role | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    registry = current_app.extensions["suite.registry"]
    perms = list(form.permissions.data or [])
    if role is not None and "*" in role.permissions:
        perms.append("*")  # the administrator role keeps "everything"
    try:
        role = save_role(
            role,
            code=role.code if role else form.code.data,
            name=form.name.data,
            permissions=perms,
            registry=registry,
        )
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "code").errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("suite.role_list", _("Saved."))


@bp.route("/admin/roles/new", methods=["GET", "POST"])
@require("suite.role.manage")
def role_new() -> Response:
    form = RoleForm()
    form.permissions.choices = _permission_choices()
    return _save(form, None) or render_form(
        "admin/role_form.html", "admin/_role_form.html", "role-form", form, role=None, events=[]
    )


@bp.route("/admin/roles/<int:role_id>", methods=["GET", "POST"])
@require("suite.role.manage")
def role_edit(role_id: int) -> Response:
    role = get_or_404(Role, role_id)
    form = RoleForm(obj=role if request.method == "GET" else None)
    form.code.data = role.code
    form.permissions.choices = _permission_choices()
    if request.method == "GET":
        form.permissions.data = [p for p in role.permissions if p != "*"]
    return _save(form, role) or render_form(
        "admin/role_form.html",
        "admin/_role_form.html",
        "role-form",
        form,
        role=role,
        events=timeline_for("role", role.id),
    )
