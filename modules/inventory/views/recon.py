"""The stock reconciliation (库存对帐单) for a period: opening + in - out = closing, per item
(or item and location), in quantity and value, with an Excel export."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import g, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from modules.inventory.blueprint import bp
from modules.inventory.forms_stock import ReconForm
from modules.inventory.reports import period_bounds, reconciliation, totals, warehouses
from suite.auth.permissions import require
from suite.dataio.export import xlsx_response
from suite.db import utcnow
from suite.web import render_page

READ = "inventory.stock.read"


def _params() -> dict[str, Any]:
    """The period (default: this month up to today, workspace time) and the grouping."""
    form = ReconForm(request.args)
    form.validate()
    today = utcnow().astimezone(ZoneInfo(g.workspace.timezone)).date()
    date_from = form.date_from.data if not form.date_from.errors else None
    date_to = form.date_to.data if not form.date_to.errors else None
    date_from = date_from or today.replace(day=1)
    date_to = date_to or today
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    warehouse_id = request.args.get("warehouse", type=int) or None
    return {
        "form": form,
        "date_from": date_from,
        "date_to": date_to,
        "by_location": form.by.data == "location",
        "warehouse_id": warehouse_id,
    }


def _rows(p: dict[str, Any]) -> list[Any]:
    start, end = period_bounds(p["date_from"], p["date_to"], g.workspace.timezone)
    return reconciliation(start, end, by_location=p["by_location"], warehouse_id=p["warehouse_id"])


@bp.route("/stock/reconciliation")
@require(READ)
def recon_report() -> Response:
    p = _params()
    rows = _rows(p)
    return render_page(
        "inventory/recon_report.html",
        "inventory/_stock_recon.html",
        "stock-recon",
        rows=rows,
        totals=totals(rows),
        warehouses=warehouses(),
        **p,
    )


@bp.route("/stock/reconciliation/export.xlsx")
@require(READ)
def recon_export() -> Response:
    p = _params()
    headers = [_("Item code"), _("Item"), _("Unit")]
    if p["by_location"]:
        headers += [_("Warehouse"), _("Location")]
    headers += [
        _("Opening quantity"),
        _("In"),
        _("Out"),
        _("Closing quantity"),
        _("Opening value"),
        _("Value in"),
        _("Value out"),
        _("Closing value"),
    ]

    def rows() -> Any:
        for r in _rows(p):
            row: list[Any] = [r.item.code, r.item.name, r.item.unit]
            if p["by_location"]:
                row += [r.location.warehouse.code, r.location.code]
            row += [r.opening_qty, r.in_qty, r.out_qty, r.closing_qty]
            row += [r.opening_value, r.in_value, r.out_value, r.closing_value]
            yield row

    name = f"stock-reconciliation-{p['date_from']:%Y%m%d}-{p['date_to']:%Y%m%d}.xlsx"
    title = _("Stock reconciliation")
    return xlsx_response(name, title, headers, rows())
