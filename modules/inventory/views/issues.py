"""Material issues (领料单): the list, the request form with lines, the page, issue and cancel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from modules.inventory.blueprint import bp
from modules.inventory.forms_stock import MaterialIssueForm, check_qty_value, parse_qty
from modules.inventory.models import Location, MaterialIssue, StockBalance
from modules.inventory.services import issues as services
from modules.inventory.views.stock_lines import (
    can,
    commit_or_show,
    line_buttons,
    line_inputs,
)
from suite.audit.timeline import timeline_for
from suite.auth.permissions import require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views.filters import search_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_form, render_page
from suite.workflow.documents import in_department_line, visible_or_404

REQUEST, ISSUE = "inventory.issue.request", "inventory.issue.issue"
STATUSES = {
    "requested": _l("To issue"),
    "issued": _l("Issued"),
    "cancelled": _l("Cancelled request"),
}


def _visible(mi: MaterialIssue) -> bool:
    """The requester, the requester's department line, and the warehouse."""
    if mi.requester_id == g.membership.id or can(ISSUE) or can("inventory.stock.read"):
        return True
    return in_department_line(mi.department_id)


def _get(material_issue_id: int) -> MaterialIssue:
    return visible_or_404(MaterialIssue, material_issue_id, _visible)


# --- list -----------------------------------------------------------------------------------------


def _filters() -> dict[str, Any]:
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = "requested" if can(ISSUE) and "status" not in request.args else None
    return {"status": status, "q": search_arg(40)}


def _query(status: str | None, q: str) -> sa.Select:
    stmt = sa.select(MaterialIssue).options(
        sa.orm.joinedload(MaterialIssue.location).joinedload(Location.warehouse),
        sa.orm.joinedload(MaterialIssue.department),
    )
    if not can(ISSUE):  # requesters see their own requests
        stmt = stmt.where(MaterialIssue.requester_id == g.membership.id)
    if status:
        stmt = stmt.where(MaterialIssue.status == status)
    if q:
        stmt = stmt.where(sa.func.lower(MaterialIssue.number).like(f"%{q.lower()}%"))
    return stmt


def _require_any() -> None:
    if not (can(REQUEST) or can(ISSUE)):
        abort(403)


@bp.route("/issues")
@login_required
def issue_list() -> Response:
    _require_any()
    filters = _filters()
    stmt = _query(**filters)
    rows, next_before = newest_first(stmt, MaterialIssue.id)
    return render_page(
        "inventory/issue_list.html",
        "inventory/_issue_results.html",
        "issue-results",
        items=rows,
        next_before=next_before,
        filters=filters,
        statuses=STATUSES,
        can_request=can(REQUEST),
    )


@bp.route("/issues/export.xlsx")
@login_required
def issue_export() -> Response:
    """The filtered list, one row per line, as an Excel file."""
    _require_any()
    stmt = _query(**_filters()).order_by(MaterialIssue.id)
    headers = [
        _("Number"),
        _("Status"),
        _("Requested by"),
        _("Department"),
        _("Location"),
        _("Purpose"),
        _("Item code"),
        _("Item"),
        _("Requested qty"),
        _("Issued"),
        _("Unit"),
    ]

    def rows() -> Any:
        for mi in db.session.scalars(stmt).unique():
            for line in mi.lines:
                yield [
                    mi.number,
                    str(STATUSES.get(mi.status, mi.status)),
                    mi.requester.user.display_name,
                    mi.department.name if mi.department else "",
                    f"{mi.location.warehouse.code} / {mi.location.code}",
                    mi.purpose,
                    line.item.code,
                    line.item.name,
                    line.qty,
                    line.issued_qty,
                    line.item.unit,
                ]

    return xlsx_response("material-issues.xlsx", _("Material issues"), headers, rows())


# --- request form ---------------------------------------------------------------------------------


@bp.route("/issues/new", methods=["GET", "POST"])
@require(REQUEST)
def issue_new() -> Response:
    form = MaterialIssueForm()
    if not line_buttons(form) and form.validate_on_submit():
        ok, mi = commit_or_show(
            form,
            lambda: services.create(
                g.membership, form.location_id.data, form.purpose.data or "", line_inputs(form)
            ),
            "location_id",
        )
        if ok:
            return redirect_to(
                "inventory.issue_detail", _("Request sent."), material_issue_id=mi.id
            )
    return render_form(
        "inventory/issue_form.html", "inventory/_issue_form.html", "issue-form", form
    )


# --- the document ---------------------------------------------------------------------------------


def _on_hand(mi: MaterialIssue) -> dict[int, Decimal]:
    rows = db.session.execute(
        sa.select(StockBalance.item_id, StockBalance.qty).where(
            StockBalance.location_id == mi.location_id,
            StockBalance.item_id.in_([line.item_id for line in mi.lines]),
        )
    )
    return dict(rows.all())


def detail_page(
    mi: MaterialIssue,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    can_issue = mi.status == services.REQUESTED and can(ISSUE)
    return render_page(
        "inventory/issue_detail.html",
        "inventory/_issue_lines.html",
        f"issue-{mi.id}-lines",
        status=status,
        mi=mi,
        statuses=STATUSES,
        show_on_hand=can_issue or can("inventory.stock.read"),
        on_hand=_on_hand(mi),
        can_issue=can_issue,
        can_cancel=mi.status == services.REQUESTED
        and (mi.requester_id == g.membership.id or can(ISSUE)),
        errors=errors or {},
        typed=typed or {},
        events=timeline_for("material_issue", mi.id),
    )


@bp.route("/issues/<int:material_issue_id>")
@login_required
def issue_detail(material_issue_id: int) -> Response:
    return detail_page(_get(material_issue_id))


@bp.route("/issues/<int:material_issue_id>/issue", methods=["POST"])
@require(ISSUE)
def issue_post(material_issue_id: int) -> Response:
    """The keeper issues: quantities per line (`qty-<line id>`), stock falls, all or nothing."""
    mi = _get(material_issue_id)
    typed = {k: v for k, v in request.form.items() if k.startswith("qty-")}
    quantities: dict[int, Decimal | None] = {}
    errors: dict[str, str] = {}
    for line in mi.lines:
        name = f"qty-{line.id}"
        try:
            qty = parse_qty(request.form.get(name)) if name in request.form else line.qty
            check_qty_value(qty)
        except ValidationError as exc:
            errors[name] = str(exc)
            continue
        quantities[line.id] = qty
    if not errors:
        try:
            services.issue(mi, g.membership, quantities)
        except DomainError as exc:
            db.session.rollback()
            errors[exc.field or "issue"] = exc.message
        else:
            db.session.commit()
            return redirect_to(
                "inventory.issue_detail", _("Issued."), material_issue_id=material_issue_id
            )
    return detail_page(
        get_or_404(MaterialIssue, material_issue_id), status=422, errors=errors, typed=typed
    )


@bp.route("/issues/<int:material_issue_id>/cancel", methods=["POST"])
@login_required
def issue_cancel(material_issue_id: int) -> Response:
    mi = _get(material_issue_id)
    try:
        services.cancel(mi, g.membership, as_keeper=can(ISSUE))
    except DomainError as exc:
        db.session.rollback()
        return detail_page(
            get_or_404(MaterialIssue, material_issue_id), status=409, errors={"issue": exc.message}
        )
    db.session.commit()
    return redirect_to(
        "inventory.issue_detail", _("Cancelled."), material_issue_id=material_issue_id
    )
