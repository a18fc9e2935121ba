"""Items (物料): list with search and filters, on hand and moving-average cost, Excel export,
the form, the item's page; item categories (list, add, rename in place)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from modules.inventory import master
from modules.inventory.blueprint import bp
from modules.inventory.forms import CategoryForm, ItemForm, category_choices
from modules.inventory.models import Item, ItemCategory
from suite.audit.timeline import timeline_for
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import keyset
from suite.web import redirect_to, render_form, render_page, wants_fragment

READ, MANAGE = "inventory.item.read", "inventory.item.manage"
ZERO = Decimal(0)


def _filters() -> dict[str, Any]:
    return {
        "q": search_arg(100),
        "category_id": request.args.get("category_id", type=int),
        "kind": choice_arg("kind", master.KINDS),
        "status": choice_arg("status", master.STATUSES, "active"),
    }


def _stock(items: list[Item]) -> dict[int, dict[str, Any]]:
    """{item id: on hand, value, average cost, low} for a page of items."""
    totals = master.stock_totals([i.id for i in items])
    out = {}
    for i in items:
        qty, value = totals.get(i.id, (ZERO, ZERO))
        low = i.is_stock and i.reorder_point > 0 and qty < i.reorder_point
        out[i.id] = {
            "qty": qty,
            "value": value,
            "cost": master.average_cost(qty, value),
            "low": low,
        }
    return out


@bp.route("/items")
@require(READ)
def item_list() -> Response:
    filters = _filters()
    stmt = master.item_query(**filters).options(selectinload(Item.category))
    page = keyset(stmt, Item.code, key_type=str)
    return render_page(
        "inventory/item_list.html",
        "inventory/_item_results.html",
        "item-results",
        page=page,
        stock=_stock(page.items),
        filters=filters,
        categories=category_choices()[1:],
        can_manage=has_permission(MANAGE),
    )


@bp.route("/items/export.xlsx")
@require(READ)
def item_export() -> Response:
    """The filtered list (every page) as an Excel file, with on hand and average cost."""
    filters = _filters()
    items = list(db.session.scalars(master.item_query(**filters).order_by(Item.code)))
    stock = _stock(items)
    names = dict(category_choices()[1:])
    yes, no = _("Yes"), _("No")
    headers = [
        _("Code"),
        _("Name"),
        _("Category"),
        _("Unit"),
        _("Barcode"),
        _("Kept in stock"),
        _("On hand"),
        _("Average cost"),
        _("Stock value"),
        _("Reorder point"),
        _("Standard price"),
        _("Active"),
    ]
    rows = (
        [
            i.code,
            i.name,
            names.get(i.category_id, ""),
            master.unit_label(i.unit),
            i.barcode or "",
            yes if i.is_stock else no,
            stock[i.id]["qty"],
            stock[i.id]["cost"],
            stock[i.id]["value"],
            i.reorder_point,
            i.standard_price,
            yes if i.active else no,
        ]
        for i in items
    )
    return xlsx_response("items.xlsx", _("Items"), headers, rows)


def _save(form: ItemForm, item: Item | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    try:
        item = master.save_item(item, form.values())
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "code", form.code).errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("inventory.item_detail", _("Saved."), item_id=item.id)


def _form_page(form: ItemForm, item: Item | None) -> Response:
    return render_form(
        "inventory/item_form.html", "inventory/_item_form.html", "item-form", form, item=item
    )


@bp.route("/items/new", methods=["GET", "POST"])
@require(MANAGE)
def item_new() -> Response:
    form = ItemForm()
    form.fill_choices()
    return _save(form, None) or _form_page(form, None)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def item_edit(item_id: int) -> Response:
    item = get_or_404(Item, item_id)
    form = ItemForm(obj=item if request.method == "GET" else None)
    form.fill_choices()
    return _save(form, item) or _form_page(form, item)


@bp.route("/items/<int:item_id>")
@require(READ)
def item_detail(item_id: int) -> Response:
    item = get_or_404(Item, item_id)
    return render_page(
        "inventory/item_detail.html",
        "inventory/item_detail.html",
        f"item-{item.id}-detail",
        item=item,
        stock=_stock([item])[item.id],
        balances=master.balances_of(item.id),
        events=timeline_for("item", item.id),
        can_manage=has_permission(MANAGE),
    )


# --- categories -----------------------------------------------------------------------------------


def _category_page(
    form: CategoryForm, *, status: int = 200, errors: dict[int, str] | None = None
) -> Response:
    page = keyset(sa.select(ItemCategory), ItemCategory.name, key_type=str)
    counts = dict(
        db.session.execute(
            sa.select(Item.category_id, sa.func.count(Item.id))
            .where(Item.category_id.in_([c.id for c in page.items]))
            .group_by(Item.category_id)
        ).all()
    )
    return render_page(
        "inventory/category_list.html",
        "inventory/_category_rows.html",
        "category-rows",
        status=status,
        page=page,
        counts=counts,
        form=form,
        errors=errors or {},
        value=request.form.get("name", ""),
        can_manage=has_permission(MANAGE),
    )


@bp.route("/categories")
@require(READ)
def category_list() -> Response:
    return _category_page(CategoryForm(formdata=None))


@bp.route("/categories/new", methods=["POST"])
@require(MANAGE)
def category_new() -> Response:
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            master.save_category(None, form.name.data)
        except DomainError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            return redirect_to("inventory.category_list", _("Category added."))
    return _category_page(form, status=422)


@bp.route("/categories/<int:item_category_id>", methods=["POST"])
@require(MANAGE)
def category_rename(item_category_id: int) -> Response:
    """Rename in place: the row for HTMX, else back to the list."""
    category = get_or_404(ItemCategory, item_category_id)
    target = f"category-{category.id}-row"
    try:
        master.save_category(category, request.form.get("name", ""))
    except DomainError as exc:
        db.session.rollback()
        errors = {item_category_id: exc.message}
        if not wants_fragment(target):
            return _category_page(CategoryForm(formdata=None), status=422, errors=errors)
        category = get_or_404(ItemCategory, item_category_id)
        return render_page(
            "inventory/category_list.html",
            "inventory/_category_row.html",
            target,
            status=422,
            c=category,
            value=request.form.get("name", ""),
            errors=errors,
            counts={},
            can_manage=True,
        )
    db.session.commit()
    if not wants_fragment(target):
        return redirect_to("inventory.category_list", _("Saved."))
    count = db.session.scalar(
        sa.select(sa.func.count(Item.id)).where(Item.category_id == category.id)
    )
    return render_page(
        "inventory/category_list.html",
        "inventory/_category_row.html",
        target,
        c=category,
        counts={category.id: count},
        errors={},
        saved=True,
        can_manage=True,
    )
