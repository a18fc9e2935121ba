"""Purchase request pages (请购单): my requests, all requests, the form with lines, the document
page with its process, submit, the asset number, and the low-stock shortcut."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, request
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import login_required
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from modules.crm.models import Party
from modules.inventory.models import Item
from modules.purchasing.blueprint import bp
from modules.purchasing.forms import AssetNumberForm, PurchaseRequestForm
from modules.purchasing.models import PurchaseRequest, PurchaseRequestLine
from modules.purchasing.services import requests as services
from modules.purchasing.views.request_page import (
    STATUSES,
    can_edit,
    detail_page,
    get_visible,
    route_of,
)
from suite.auth.models import Membership
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_form, render_page
from suite.workflow.documents import submit_from_page

# --- lists ----------------------------------------------------------------------------------------


def _list_stmt(scope: str) -> tuple[sa.Select, dict[str, Any]]:
    """Requests of the scope (`mine` / `all`) with the page's search and filters applied."""
    status = choice_arg("status", STATUSES)
    q = search_arg(80)
    stmt = sa.select(PurchaseRequest).options(
        selectinload(PurchaseRequest.lines).joinedload(PurchaseRequestLine.item),
        selectinload(PurchaseRequest.requester).joinedload(Membership.user),
        joinedload(PurchaseRequest.department),
    )
    if scope == "mine":
        stmt = stmt.where(PurchaseRequest.requester_id == g.membership.id)
    if status:
        stmt = stmt.where(PurchaseRequest.status == status)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(PurchaseRequest.number).like(like),
                sa.func.lower(PurchaseRequest.project).like(like),
            )
        )
    return stmt, {"status": status, "q": q, "scope": scope}


def _can_all() -> bool:
    return has_permission("purchasing.request.read_all")


def _scope() -> str:
    """`all` for buyers and finance when asked (their default if they raise none), else `mine`."""
    wanted = request.args.get("scope")
    if not _can_all():
        return "mine"
    if wanted in ("all", "mine"):
        return wanted
    return "mine" if has_permission("purchasing.request.create") else "all"


@bp.route("/requests")
@login_required
def request_list() -> Response:
    if not (has_permission("purchasing.request.create") or _can_all()):
        abort(403)
    stmt, filters = _list_stmt(_scope())
    items, next_before = newest_first(stmt, PurchaseRequest.id)
    return render_page(
        "purchasing/request_list.html",
        "purchasing/_request_rows.html",
        "purchase-request-rows",
        items=items,
        next_before=next_before,
        statuses=STATUSES,
        can_all=_can_all(),
        can_create=has_permission("purchasing.request.create"),
        **filters,
    )


@bp.route("/requests/export.xlsx")
@login_required
def request_export() -> Response:
    if not (has_permission("purchasing.request.create") or _can_all()):
        abort(403)
    stmt, _filters = _list_stmt(_scope())
    stmt = stmt.options(selectinload(PurchaseRequest.requester)).order_by(PurchaseRequest.id.desc())
    headers = [
        _("Number"),
        _("Status"),
        _("Requester"),
        _("Department"),
        _("Project"),
        _("Fixed asset"),
        _("Asset number"),
        _("Total"),
        _("Created"),
    ]

    def rows() -> Any:
        for r in db.session.scalars(stmt.execution_options(yield_per=500)):
            yield [
                r.number,
                str(STATUSES.get(r.status, r.status)),
                r.requester.user.display_name,
                r.department.name if r.department else "",
                r.project,
                _("Yes") if r.is_asset else _("No"),
                r.asset_number or "",
                r.amount_total,
                to_user_timezone(r.created_at),
            ]

    return xlsx_response("purchase-requests.xlsx", _("Purchase requests"), headers, rows())


# --- the form -------------------------------------------------------------------------------------


def _choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    items = db.session.execute(
        sa.select(Item.id, Item.code, Item.name)
        .where(Item.active.is_(True))
        .order_by(Item.code)
        .limit(2000)
    ).all()
    suppliers = db.session.execute(
        sa.select(Party.id, Party.code, Party.name)
        .where(Party.is_supplier.is_(True), Party.active.is_(True))
        .order_by(Party.code)
        .limit(2000)
    ).all()
    return (
        [(r.id, f"{r.code} {r.name}") for r in items],
        [(r.id, f"{r.code} {r.name}") for r in suppliers],
    )


def _form(req: PurchaseRequest | None = None, **kwargs: Any) -> PurchaseRequestForm:
    form = PurchaseRequestForm(obj=req, **kwargs)
    form.set_choices(*_choices())
    return form


def _line_op(form: PurchaseRequestForm) -> PurchaseRequestForm | None:
    """ "Add line" / "Remove line n": the same form with one line more or less (nothing saved)."""
    op = request.form.get("op", "")
    if op == "add":
        if len(form.lines) < services.MAX_LINES:
            form.lines.append_entry()
    elif op.startswith("remove-"):
        drop = op[7:]
        if drop.isdigit() and len(form.lines) > 1:
            data = form.data
            data["lines"] = [line for n, line in enumerate(data["lines"]) if n != int(drop)]
            data.pop("csrf_token", None)
            form = _form(formdata=None, data=data)
    else:
        return None
    form.set_choices(*_choices())
    return form


def _save(form: PurchaseRequestForm, req: PurchaseRequest | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    try:
        req = services.save_request(
            req,
            g.membership,
            lines=form.line_inputs(),
            project=form.project.data or "",
            reason=form.reason.data or "",
            is_asset=form.is_asset.data,
        )
    except DomainError as exc:
        db.session.rollback()
        _field_of(form, exc.field).errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("purchasing.request_detail", _("Saved."), purchase_request_id=req.id)


def _field_of(form: PurchaseRequestForm, name: str | None) -> Any:
    """The form field a service's `lines-<n>-<field>` (or plain) field name points to."""
    if name == "lines":
        return form.lines[0].form.item_id
    if name and name.startswith("lines-"):
        _prefix, n, field = name.split("-", 2)
        if n.isdigit() and int(n) < len(form.lines):
            return getattr(form.lines[int(n)].form, field)
    return getattr(form, name or "project", None) or form.project


def _values(form: PurchaseRequestForm) -> tuple[dict[str, Any], list[Decimal | None]]:
    amounts = form.amounts()
    total = sum((a for a in amounts if a is not None), Decimal(0))
    return {"amount": total, "is_asset": bool(form.is_asset.data), "project": ""}, amounts


@dataclass(frozen=True)
class LineAmount:
    """One form line's amount as the server computed it, and what it is made of."""

    amount: Decimal | None
    qty: Decimal | None
    price: Decimal | None
    unit: str  # the item's unit code ("" before an item is chosen)


def _line_amounts(form: PurchaseRequestForm, amounts: list[Decimal | None]) -> list[LineAmount]:
    """Each line's amount with its quantity, price and the chosen item's unit."""
    chosen = {e.form.item_id.data for e in form.lines if isinstance(e.form.item_id.data, int)}
    units = dict(db.session.execute(sa.select(Item.id, Item.unit).where(Item.id.in_(chosen))).all())
    return [
        LineAmount(
            amount, e.form.qty.data, e.form.unit_price.data, units.get(e.form.item_id.data, "")
        )
        for e, amount in zip(form.lines, amounts, strict=True)
    ]


def _form_page(form: PurchaseRequestForm, req: PurchaseRequest | None) -> Response:
    values, amounts = _values(form)
    return render_form(
        "purchasing/request_form.html",
        "purchasing/_request_form.html",
        "purchase-request-form",
        form,
        req=req,
        amounts=amounts,
        lines=_line_amounts(form, amounts),
        total=values["amount"],
        **route_of(req, values),
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@require("purchasing.request.create")
def request_new() -> Response:
    form = _form()
    if request.method == "POST":
        changed = _line_op(form)
        if changed is not None:
            return _form_page(changed, None)
    return _save(form, None) or _form_page(form, None)


@bp.route("/requests/<int:purchase_request_id>/edit", methods=["GET", "POST"])
@require("purchasing.request.create")
def request_edit(purchase_request_id: int) -> Response:
    req = get_visible(purchase_request_id)
    if not can_edit(req):
        return redirect_to("purchasing.request_detail", purchase_request_id=req.id)
    form = _form(req if request.method == "GET" else None)
    if request.method == "POST":
        changed = _line_op(form)
        if changed is not None:
            return _form_page(changed, req)
    return _save(form, req) or _form_page(form, req)


@bp.route("/requests/route-preview")
@require("purchasing.request.create")
def request_route_preview() -> Response:
    """The total and the route for the lines being typed (the form's live preview), and each
    line's amount redrawn out of band."""
    form = PurchaseRequestForm(request.args, meta={"csrf": False})
    form.set_choices(*_choices())
    form.validate()
    values, amounts = _values(form)
    return render_page(
        "purchasing/request_form.html",
        "purchasing/_request_preview.html",
        "purchase-request-route",
        form=form,
        req=None,
        amounts=amounts,
        lines=_line_amounts(form, amounts),
        total=values["amount"],
        **route_of(None, values),
    )


# --- document actions -----------------------------------------------------------------------------


@bp.route("/requests/<int:purchase_request_id>")
@login_required
def request_detail(purchase_request_id: int) -> Response:
    return detail_page(get_visible(purchase_request_id))


@bp.route("/requests/<int:purchase_request_id>/submit", methods=["POST"])
@require("purchasing.request.create")
def request_submit(purchase_request_id: int) -> Response:
    req = get_visible(purchase_request_id)
    return submit_from_page(
        lambda key: services.submit_request(req, g.membership, key=key),
        done=lambda message: redirect_to(
            "purchasing.request_detail", message, purchase_request_id=req.id
        ),
        refused=lambda notice: detail_page(
            get_or_404(PurchaseRequest, purchase_request_id), status=409, notice=notice
        ),
    )


@bp.route("/requests/<int:purchase_request_id>/asset-number", methods=["POST"])
@require("purchasing.request.asset_number")
def request_asset_number(purchase_request_id: int) -> Response:
    req = get_visible(purchase_request_id)
    if not (req.is_asset and req.status == services.APPROVED):
        notice = _("There is no asset number to enter on this request.")
        return detail_page(req, status=409, notice=notice)
    form = AssetNumberForm()
    if form.validate_on_submit():
        try:
            orders = services.set_asset_number(req, g.membership, form.asset_number.data)
        except DomainError as exc:
            db.session.rollback()
            req = get_or_404(PurchaseRequest, purchase_request_id)
            form.asset_number.errors.append(exc.message)
        else:
            db.session.commit()
            message = _("Asset number saved; %(count)s order(s) created.", count=len(orders))
            return redirect_to("purchasing.request_detail", message, purchase_request_id=req.id)
    return detail_page(req, status=422, asset_form=form)


@bp.route("/requests/from-low-stock", methods=["POST"])
@require("purchasing.request.create")
def request_from_low_stock() -> Response:
    """One click from a low-stock alert: a draft request for the item, then its edit page."""
    item_id = request.form.get("item_id", type=int)
    item = db.session.scalar(sa.select(Item).where(Item.id == item_id)) if item_id else None
    if item is None:
        abort(404)
    try:
        req = services.request_from_low_stock(item, g.membership)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect_to("purchasing.request_list")
    db.session.commit()
    return redirect_to(
        "purchasing.request_edit", _("Draft request created."), purchase_request_id=req.id
    )
