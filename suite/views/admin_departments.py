"""Admin: the department tree with heads."""

from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.audit.timeline import timeline_for
from suite.auth.forms import DepartmentForm
from suite.auth.models import Department
from suite.auth.permissions import require
from suite.auth.services import department_tree, save_department
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views import bp
from suite.web import redirect_to, render_form, render_page


@bp.route("/admin/departments")
@require("suite.department.manage")
def department_list() -> Response:
    return render_page(
        "admin/department_list.html",
        "admin/_department_tree.html",
        "department-tree",
        tree=department_tree(),
    )


def _save(form: DepartmentForm, dept: Department | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    try:
        dept = save_department(
            dept,
            name=form.name.data.strip(),
            parent_id=form.parent_id.data,
            head_id=form.head_id.data,
            sort=form.sort.data or 0,
        )
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "name").errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("suite.department_list", _("Saved."))


@bp.route("/admin/departments/new", methods=["GET", "POST"])
@require("suite.department.manage")
def department_new() -> Response:
    form = DepartmentForm()
    form.fill_choices()
    return _save(form, None) or render_form(
        "admin/department_form.html",
        "admin/_department_form.html",
        "department-form",
        form,
        dept=None,
        events=[],
    )


@bp.route("/admin/departments/<int:department_id>", methods=["GET", "POST"])
@require("suite.department.manage")
def department_edit(department_id: int) -> Response:
    dept = get_or_404(Department, department_id)
    form = DepartmentForm(obj=dept)
    form.fill_choices(dept)
    return _save(form, dept) or render_form(
        "admin/department_form.html",
        "admin/_department_form.html",
        "department-form",
        form,
        dept=dept,
        events=timeline_for("department", dept.id),
    )
