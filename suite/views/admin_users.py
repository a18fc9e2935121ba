"""Admin: users of the workspace (members), with department, manager, roles."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.audit.timeline import timeline_for
from suite.auth.forms import UserForm
from suite.auth.models import Membership, User
from suite.auth.permissions import require
from suite.auth.services import save_member
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views import bp
from suite.views.pagination import keyset
from suite.web import redirect_to, render_form, render_page


@bp.route("/admin/users")
@require("suite.user.manage")
def user_list() -> Response:
    q = (request.args.get("q") or "").strip()
    stmt = sa.select(Membership).join(User, User.id == Membership.user_id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(User.login).like(like), sa.func.lower(User.display_name).like(like)
            )
        )
    page = keyset(stmt, Membership.id)
    return render_page("admin/user_list.html", "admin/_user_rows.html", "user-rows", page=page, q=q)


def _save(form: UserForm, member: Membership | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    try:
        member = save_member(
            member,
            login=form.login.data,
            display_name=form.display_name.data,
            email=form.email.data,
            password=form.password.data,
            department_id=form.department_id.data,
            manager_id=form.manager_id.data,
            role_ids=form.role_ids.data or [],
            active=form.active.data,
            title=form.title.data,
        )
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "login").errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("suite.user_edit", _("Saved."), membership_id=member.id)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require("suite.user.manage")
def user_new() -> Response:
    form = UserForm()
    form.fill_choices()
    return _save(form, None) or render_form(
        "admin/user_form.html", "admin/_user_form.html", "user-form", form, member=None, events=[]
    )


@bp.route("/admin/users/<int:membership_id>", methods=["GET", "POST"])
@require("suite.user.manage")
def user_edit(membership_id: int) -> Response:
    member = get_or_404(Membership, membership_id)
    form = UserForm(obj=member.user if request.method == "GET" else None)
    if request.method == "GET":
        form.department_id.data = member.department_id
        form.manager_id.data = member.manager_id
        form.role_ids.data = [r.id for r in member.roles]
        form.active.data = member.active
        form.title.data = member.title
    form.fill_choices(member.id)
    return _save(form, member) or render_form(
        "admin/user_form.html",
        "admin/_user_form.html",
        "user-form",
        form,
        member=member,
        events=timeline_for("membership", member.id),
    )
