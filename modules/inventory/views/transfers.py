"""Stock transfers (调拨单) between locations: list, export, the form (posted at once), the page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from modules.inventory.blueprint import bp
from modules.inventory.forms_stock import TransferForm
from modules.inventory.models import Location, StockMove, StockTransfer
from modules.inventory.services import transfers as services
from modules.inventory.views.stock_lines import commit_or_show, line_buttons, line_inputs
from suite.audit.timeline import timeline_for
from suite.auth.permissions import require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.tenancy import get_or_404
from suite.views.filters import search_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_form, render_page

CREATE = "inventory.transfer.create"


def _query(q: str) -> sa.Select:
    stmt = sa.select(StockTransfer).options(
        joinedload(StockTransfer.from_location).joinedload(Location.warehouse),
        joinedload(StockTransfer.to_location).joinedload(Location.warehouse),
    )
    if q:
        stmt = stmt.where(sa.func.lower(StockTransfer.number).like(f"%{q.lower()}%"))
    return stmt


@bp.route("/transfers")
@require(CREATE)
def transfer_list() -> Response:
    q = search_arg(40)
    stmt = _query(q)
    rows, next_before = newest_first(stmt, StockTransfer.id)
    return render_page(
        "inventory/transfer_list.html",
        "inventory/_stock_transfer_results.html",
        "transfer-results",
        items=rows,
        next_before=next_before,
        q=q,
    )


@bp.route("/transfers/export.xlsx")
@require(CREATE)
def transfer_export() -> Response:
    """The filtered transfers, one row per line, as an Excel file."""
    q = search_arg(40)
    stmt = _query(q).options(selectinload(StockTransfer.lines)).order_by(StockTransfer.id)
    headers = [
        _("Number"),
        _("Date"),
        _("From location"),
        _("To location"),
        _("Note"),
        _("Item code"),
        _("Item"),
        _("Quantity"),
        _("Unit"),
    ]

    def rows() -> Any:
        for t in db.session.scalars(stmt):
            for line in t.lines:
                yield [
                    t.number,
                    t.created_at.date(),
                    f"{t.from_location.warehouse.code} / {t.from_location.code}",
                    f"{t.to_location.warehouse.code} / {t.to_location.code}",
                    t.note,
                    line.item.code,
                    line.item.name,
                    line.qty,
                    line.item.unit,
                ]

    return xlsx_response("transfers.xlsx", _("Transfers"), headers, rows())


@bp.route("/transfers/new", methods=["GET", "POST"])
@require(CREATE)
def transfer_new() -> Response:
    form = TransferForm()
    if not line_buttons(form) and form.validate_on_submit():
        ok, t = commit_or_show(
            form,
            lambda: services.create(
                g.membership,
                form.from_location_id.data,
                form.to_location_id.data,
                form.note.data or "",
                line_inputs(form),
            ),
            "from_location_id",
        )
        if ok:
            return redirect_to(
                "inventory.transfer_detail", _("Stock transferred."), stock_transfer_id=t.id
            )
    return render_form(
        "inventory/transfer_form.html",
        "inventory/_stock_transfer_form.html",
        "transfer-form",
        form,
    )


@bp.route("/transfers/<int:stock_transfer_id>")
@require(CREATE)
def transfer_detail(stock_transfer_id: int) -> Response:
    t = get_or_404(StockTransfer, stock_transfer_id)
    moves = list(
        db.session.scalars(
            sa.select(StockMove)
            .where(StockMove.document_type == services.DOC_TYPE, StockMove.document_id == t.id)
            .order_by(StockMove.id)
        )
    )
    return render_page(
        "inventory/transfer_detail.html",
        "inventory/transfer_detail.html",
        f"transfer-{t.id}",
        t=t,
        moves=moves,
        events=timeline_for("stock_transfer", t.id),
    )
