"""Stock on hand (item x location), the stock ledger, low stock, each with filters and export."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager
from werkzeug.wrappers import Response

from modules.inventory.blueprint import bp
from modules.inventory.models import Item, Location, StockBalance, StockMove, Warehouse
from modules.inventory.reports import period_bounds, warehouses
from modules.inventory.services.low_stock import low_items, scaled
from modules.inventory.stock import average_cost
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import keyset, newest_first
from suite.web import render_page

READ = "inventory.stock.read"
LOW_STOCK_REQUEST = "purchasing.request_from_low_stock"  # provided by purchasing, when loaded
KINDS = {
    "receipt": _l("Receipt"),
    "issue": _l("Issue"),
    "return": _l("Return"),
    "transfer": _l("Stock transfer"),
    "adjustment": _l("Adjustment"),
    "delivery": _l("Delivery"),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"inventory_can": lambda permission: has_permission(permission)}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value and value > 0 else None


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


# --- on hand --------------------------------------------------------------------------------------


def _stock_filters() -> dict[str, Any]:
    return {
        "q": search_arg(100),
        "warehouse_id": _int_arg("warehouse"),
        "item_id": _int_arg("item"),
        "zero": request.args.get("zero") == "1",
    }


def _stock_query(q: str, warehouse_id: int | None, item_id: int | None, zero: bool) -> sa.Select:
    stmt = (
        sa.select(StockBalance)
        .join(Item, Item.id == StockBalance.item_id)
        .join(Location, Location.id == StockBalance.location_id)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .options(
            contains_eager(StockBalance.item),
            contains_eager(StockBalance.location).contains_eager(Location.warehouse),
        )
    )
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Item.code).like(like),
                sa.func.lower(Item.name).like(like),
                Item.barcode == q,
            )
        )
    if warehouse_id:
        stmt = stmt.where(Location.warehouse_id == warehouse_id)
    if item_id:
        stmt = stmt.where(StockBalance.item_id == item_id)
    if not zero:
        stmt = stmt.where(scaled(StockBalance.qty) != 0)
    return stmt


@bp.route("/stock")
@require(READ)
def stock_list() -> Response:
    filters = _stock_filters()
    page = keyset(_stock_query(**filters), StockBalance.id)
    return render_page(
        "inventory/stock_list.html",
        "inventory/_stock_results.html",
        "stock-results",
        page=page,
        filters=filters,
        warehouses=warehouses(),
        average_cost=average_cost,
    )


@bp.route("/stock/export.xlsx")
@require(READ)
def stock_export() -> Response:
    """Every row of the filtered on-hand list as an Excel file."""
    stmt = _stock_query(**_stock_filters()).order_by(Item.code, Warehouse.code, Location.code)
    headers = [
        _("Item code"),
        _("Item"),
        _("Unit"),
        _("Warehouse"),
        _("Location"),
        _("On hand"),
        _("Average cost"),
        _("Amount"),
    ]
    rows = (
        [
            b.item.code,
            b.item.name,
            b.item.unit,
            b.location.warehouse.code,
            b.location.code,
            b.qty,
            average_cost(b),
            b.value,
        ]
        for b in db.session.scalars(stmt.execution_options(yield_per=500))
    )
    return xlsx_response("stock.xlsx", _("Stock on hand"), headers, rows)


# --- ledger ---------------------------------------------------------------------------------------


def _ledger_filters() -> dict[str, Any]:
    return {
        "item_id": _int_arg("item"),
        "location_id": _int_arg("location"),
        "kind": choice_arg("kind", KINDS),
        "date_from": _date_arg("from"),
        "date_to": _date_arg("to"),
    }


def _ledger_query(
    item_id: int | None,
    location_id: int | None,
    kind: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> sa.Select:
    stmt = sa.select(StockMove).options(
        sa.orm.joinedload(StockMove.item),
        sa.orm.joinedload(StockMove.location).joinedload(Location.warehouse),
    )
    if item_id:
        stmt = stmt.where(StockMove.item_id == item_id)
    if location_id:
        stmt = stmt.where(StockMove.location_id == location_id)
    if kind:
        stmt = stmt.where(StockMove.kind == kind)
    start, end = period_bounds(date_from, date_to, g.workspace.timezone)
    if start is not None:
        stmt = stmt.where(StockMove.moved_at >= start)
    if end is not None:
        stmt = stmt.where(StockMove.moved_at < end)
    return stmt


def _choices() -> dict[str, Any]:
    items = db.session.execute(
        sa.select(Item.id, Item.code, Item.name).where(Item.is_stock.is_(True)).order_by(Item.code)
    ).all()
    locations = db.session.execute(
        sa.select(Location.id, Warehouse.code, Location.code)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .order_by(Warehouse.code, Location.code)
    ).all()
    return {"item_choices": items, "location_choices": locations}


@bp.route("/stock/moves")
@require(READ)
def stock_ledger() -> Response:
    filters = _ledger_filters()
    moves, next_before = newest_first(_ledger_query(**filters), StockMove.id)
    return render_page(
        "inventory/stock_ledger.html",
        "inventory/_stock_moves.html",
        "stock-moves",
        moves=moves,
        next_before=next_before,
        filters=filters,
        kinds=KINDS,
        **_choices(),
    )


@bp.route("/stock/moves/export.xlsx")
@require(READ)
def stock_ledger_export() -> Response:
    """The filtered ledger as an Excel file; times in the workspace's time zone."""
    stmt = _ledger_query(**_ledger_filters()).order_by(StockMove.id)
    tz = ZoneInfo(g.workspace.timezone)
    headers = [
        _("Time"),
        _("Document"),
        _("Kind"),
        _("Item code"),
        _("Item"),
        _("Warehouse"),
        _("Location"),
        _("Quantity"),
        _("Unit cost"),
        _("Amount"),
        _("Balance after"),
    ]
    rows = (
        [
            m.moved_at.astimezone(tz),
            m.document_number,
            str(KINDS.get(m.kind, m.kind)),
            m.item.code,
            m.item.name,
            m.location.warehouse.code,
            m.location.code,
            m.qty,
            m.unit_cost,
            m.value,
            m.balance_qty,
        ]
        for m in db.session.scalars(stmt.execution_options(yield_per=500))
    )
    return xlsx_response("stock-ledger.xlsx", _("Stock ledger"), headers, rows)


# --- low stock ------------------------------------------------------------------------------------


def _can_request() -> bool:
    """The purchasing module offers a one-click purchase request (inventory never imports it)
    and the member may use it (the permission its view requires, read off the view)."""
    view = current_app.view_functions.get(LOW_STOCK_REQUEST)
    if view is None:
        return False
    permission = getattr(view, "required_permission", None)
    return permission is None or has_permission(permission)


@bp.route("/low-stock")
@require(READ)
def low_stock() -> Response:
    return render_page(
        "inventory/low_stock.html",
        "inventory/_stock_low.html",
        "stock-low",
        rows=low_items(limit=1000),
        can_request=_can_request(),
        request_endpoint=LOW_STOCK_REQUEST,
    )


def low_stock_widget() -> tuple[str, dict[str, Any]] | None:
    """The home page's red panel: items below their reorder point (only when there are some)."""
    if g.get("membership") is None or not has_permission(READ):
        return None
    rows = low_items(limit=11)
    if not rows:
        return None
    return (
        "inventory/low_stock_widget.html",
        {
            "rows": rows[:10],
            "more": len(rows) > 10,
            "can_request": _can_request(),
            "request_endpoint": LOW_STOCK_REQUEST,
        },
    )
