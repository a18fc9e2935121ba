"""Warehouses (仓库) and their locations (库位): list, Excel export, the forms, the warehouse's
page with its locations (a location is added in place with HTMX)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from modules.inventory import master
from modules.inventory.blueprint import bp
from modules.inventory.forms import LocationForm, WarehouseForm
from modules.inventory.models import Location, Warehouse
from suite.audit.timeline import timeline_for
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import keyset
from suite.web import redirect_to, render_form, render_page, wants_fragment

READ, MANAGE = "inventory.item.read", "inventory.warehouse.manage"
CHANGED = "inventory:warehouse-changed"


def _filters() -> dict[str, Any]:
    return {
        "q": search_arg(100),
        "status": choice_arg("status", master.STATUSES, "active"),
    }


def _location_counts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Location.warehouse_id, sa.func.count(Location.id))
            .where(Location.warehouse_id.in_(ids), Location.active.is_(True))
            .group_by(Location.warehouse_id)
        ).all()
    )


@bp.route("/warehouses")
@require(READ)
def warehouse_list() -> Response:
    filters = _filters()
    page = keyset(master.warehouse_query(**filters), Warehouse.code, key_type=str)
    return render_page(
        "inventory/warehouse_list.html",
        "inventory/_warehouse_results.html",
        "warehouse-results",
        page=page,
        counts=_location_counts([w.id for w in page.items]),
        filters=filters,
        can_manage=has_permission(MANAGE),
    )


@bp.route("/warehouses/export.xlsx")
@require(READ)
def warehouse_export() -> Response:
    """The filtered warehouses, one row per location."""
    stmt = (
        sa.select(Warehouse, Location)
        .join(Location, Location.warehouse_id == Warehouse.id, isouter=True)
        .where(
            Warehouse.id.in_(master.warehouse_query(**_filters()).with_only_columns(Warehouse.id))
        )
        .order_by(Warehouse.code, Location.code)
    )
    yes, no = _("Yes"), _("No")
    headers = [_("Warehouse code"), _("Warehouse"), _("Location code"), _("Location"), _("Active")]
    rows = (
        [w.code, w.name, loc.code if loc else "", loc.name if loc else "", yes if w.active else no]
        for w, loc in db.session.execute(stmt)
    )
    return xlsx_response("warehouses.xlsx", _("Warehouses"), headers, rows)


def _save(form: WarehouseForm, warehouse: Warehouse | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    try:
        warehouse = master.save_warehouse(
            warehouse,
            code=form.code.data,
            name=form.name.data,
            active=bool(form.active.data) if warehouse is not None else True,
        )
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "code", form.code).errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("inventory.warehouse_detail", _("Saved."), warehouse_id=warehouse.id)


def _form_page(form: WarehouseForm, warehouse: Warehouse | None) -> Response:
    return render_form(
        "inventory/warehouse_form.html",
        "inventory/_warehouse_form.html",
        "warehouse-form",
        form,
        warehouse=warehouse,
    )


@bp.route("/warehouses/new", methods=["GET", "POST"])
@require(MANAGE)
def warehouse_new() -> Response:
    form = WarehouseForm()
    return _save(form, None) or _form_page(form, None)


@bp.route("/warehouses/<int:warehouse_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def warehouse_edit(warehouse_id: int) -> Response:
    warehouse = get_or_404(Warehouse, warehouse_id)
    form = WarehouseForm(obj=warehouse if request.method == "GET" else None)
    return _save(form, warehouse) or _form_page(form, warehouse)


def _location_form(**kwargs: Any) -> LocationForm:
    # The page-wide CSRF check (the hidden field or the hx-headers token) protects the post.
    return LocationForm(prefix="location", meta={"csrf": False}, **kwargs)


def _detail(warehouse: Warehouse, form: LocationForm | None = None, status: int = 200) -> Response:
    return render_page(
        "inventory/warehouse_detail.html",
        "inventory/_warehouse_locations.html",
        f"warehouse-{warehouse.id}-locations",
        status=status,
        warehouse=warehouse,
        location_form=form or _location_form(formdata=None),
        events=timeline_for("warehouse", warehouse.id),
        can_manage=has_permission(MANAGE),
    )


@bp.route("/warehouses/<int:warehouse_id>")
@require(READ)
def warehouse_detail(warehouse_id: int) -> Response:
    return _detail(get_or_404(Warehouse, warehouse_id))


@bp.route("/warehouses/<int:warehouse_id>/locations", methods=["POST"])
@require(MANAGE)
def location_add(warehouse_id: int) -> Response:
    warehouse = get_or_404(Warehouse, warehouse_id)
    form = _location_form()
    if form.validate_on_submit():
        try:
            master.save_location(
                None, warehouse, code=form.code.data, name=form.name.data, active=True
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "code", form.code).errors.append(exc.message)
        else:
            db.session.commit()
            if wants_fragment(f"warehouse-{warehouse.id}-locations"):
                resp = _detail(warehouse)
                resp.headers["HX-Trigger"] = CHANGED
                return resp
            return redirect_to(
                "inventory.warehouse_detail", _("Location added."), warehouse_id=warehouse.id
            )
    return _detail(get_or_404(Warehouse, warehouse_id), form, status=422)


@bp.route("/locations/<int:location_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def location_edit(location_id: int) -> Response:
    location = get_or_404(Location, location_id)
    warehouse = get_or_404(Warehouse, location.warehouse_id)
    form = LocationForm(obj=location if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            master.save_location(
                location,
                warehouse,
                code=form.code.data,
                name=form.name.data,
                active=bool(form.active.data),
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "code", form.code).errors.append(exc.message)
        else:
            db.session.commit()
            return redirect_to("inventory.warehouse_detail", _("Saved."), warehouse_id=warehouse.id)
        location = get_or_404(Location, location_id)
        warehouse = get_or_404(Warehouse, location.warehouse_id)
    return render_form(
        "inventory/warehouse_location_form.html",
        "inventory/_warehouse_location_form.html",
        "location-form",
        form,
        location=location,
        warehouse=warehouse,
    )
