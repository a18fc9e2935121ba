"""Stocktakes (盘点): list, new count sheet, counting (big inputs, saved per line), submit; the
document page shows lines (system / counted / variance) with the kernel's process panels."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from modules.inventory.blueprint import bp
from modules.inventory.forms_stock import (
    StocktakeForm,
    StocktakeItemForm,
    check_qty_value,
    parse_qty,
)
from modules.inventory.models import Location, Stocktake, StocktakeLine
from modules.inventory.services import stocktakes as services
from modules.inventory.views.stock_lines import can, commit_or_show
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_form, render_page
from suite.workflow.documents import (
    form_key,
    instance_of,
    instances_of,
    involved,
    key_used,
    visible_or_404,
)
from suite.workflow.history import history
from suite.workflow.panels import panel_for
from suite.workflow.planner import CommandRefused
from suite.workflow.views import DocumentPages, refusal_message, register_pages

COUNT = "inventory.stocktake.count"
STATUSES = {
    "counting": _l("Counting"),
    "submitted": _l("In approval"),
    "posted": _l("Adjusted"),
}
FIELDS = {"status": _l("Status"), "note": _l("Note")}


def _visible(st: Stocktake) -> bool:
    """Counters and stock readers, anyone with a task on it, process administrators."""
    me = g.membership
    if st.created_by_id == me.id or can(COUNT) or can("inventory.stock.read"):
        return True
    if has_permission("suite.workflow.manage"):
        return True
    return involved(services.DOC_TYPE, st.id)


def _get(stocktake_id: int) -> Stocktake:
    return visible_or_404(Stocktake, stocktake_id, _visible)


def _can_count(st: Stocktake) -> bool:
    return can(COUNT) and services.can_count(st)


def _panel_context(st: Stocktake, *, notice: str | None = None, failed: Any = None) -> dict:
    instance = instance_of(st.instance_id)
    panel = panel_for(instance, f"stocktake-{st.id}", notice=notice, failed=failed)
    return {
        "st": st,
        "panel": panel,
        "statuses": STATUSES,
        "can_count": _can_count(st),
        "can_submit": can(COUNT) and st.status == services.COUNTING,
        "submit_key": panel.key(),
    }


def detail_page(
    st: Stocktake,
    *,
    status: int = 200,
    notice: str | None = None,
    failed: Any = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    item_form: StocktakeItemForm | None = None,
) -> Response:
    ctx = _panel_context(st, notice=notice, failed=failed)
    instances = instances_of(services.DOC_TYPE, st.id)
    ctx["events"] = history(instances, "stocktake", st.id, fields=FIELDS)
    ctx["values"] = services.variance_values(st)
    ctx["errors"] = errors or {}
    ctx["typed"] = typed or {}
    ctx["item_form"] = item_form or StocktakeItemForm(formdata=None)
    ctx["can_list"] = can(COUNT)
    return render_page(
        "inventory/stocktake_detail.html",
        "inventory/_stocktake_status.html",
        f"stocktake-{st.id}-status",
        status=status,
        **ctx,
    )


register_pages(
    services.DOC_TYPE,
    DocumentPages(
        status="inventory/_stocktake_status.html",
        actions="inventory/_stocktake_actions.html",
        context=_panel_context,
        page=detail_page,
        visible=_visible,
    ),
)


# --- list -----------------------------------------------------------------------------------------


def _query(status: str | None) -> sa.Select:
    stmt = sa.select(Stocktake).options(
        sa.orm.joinedload(Stocktake.location).joinedload(Location.warehouse)
    )
    return stmt.where(Stocktake.status == status) if status else stmt


def _status_arg() -> str | None:
    return choice_arg("status", STATUSES)


@bp.route("/stocktakes")
@require(COUNT)
def stocktake_list() -> Response:
    status = _status_arg()
    stmt = _query(status)
    rows, next_before = newest_first(stmt, Stocktake.id)
    return render_page(
        "inventory/stocktake_list.html",
        "inventory/_stocktake_results.html",
        "stocktake-results",
        items=rows,
        next_before=next_before,
        status=status,
        statuses=STATUSES,
    )


@bp.route("/stocktakes/export.xlsx")
@require(COUNT)
def stocktake_export() -> Response:
    """The filtered stocktakes, one row per line (system, counted, variance), as Excel."""
    stmt = _query(_status_arg()).options(sa.orm.selectinload(Stocktake.lines))
    headers = [
        _("Number"),
        _("Status"),
        _("Location"),
        _("Item code"),
        _("Item"),
        _("System quantity"),
        _("Counted"),
        _("Variance"),
    ]

    def rows() -> Any:
        for st in db.session.scalars(stmt.order_by(Stocktake.id)):
            for line in st.lines:
                yield [
                    st.number,
                    str(STATUSES.get(st.status, st.status)),
                    f"{st.location.warehouse.code} / {st.location.code}",
                    line.item.code,
                    line.item.name,
                    line.system_qty,
                    line.counted_qty,
                    line.variance,
                ]

    return xlsx_response("stocktakes.xlsx", _("Stocktakes"), headers, rows())


@bp.route("/stocktakes/new", methods=["GET", "POST"])
@require(COUNT)
def stocktake_new() -> Response:
    form = StocktakeForm()
    if form.validate_on_submit():
        ok, st = commit_or_show(
            form,
            lambda: services.create(g.membership, form.location_id.data, form.note.data or ""),
            "location_id",
        )
        if ok:
            return redirect_to(
                "inventory.stocktake_detail", _("Count sheet created."), stocktake_id=st.id
            )
    return render_form(
        "inventory/stocktake_form.html", "inventory/_stocktake_form.html", "stocktake-form", form
    )


# --- the document ---------------------------------------------------------------------------------


@bp.route("/stocktakes/<int:stocktake_id>")
@login_required
def stocktake_detail(stocktake_id: int) -> Response:
    return detail_page(_get(stocktake_id))


def _read_counts(st: Stocktake) -> tuple[dict[int, Decimal | None], dict[str, str]]:
    """`counted-<line id>` fields as Decimals (blank: not counted); errors by field name."""
    counts: dict[int, Decimal | None] = {}
    errors: dict[str, str] = {}
    for line in st.lines:
        name = f"counted-{line.id}"
        if name not in request.form:
            continue
        try:
            qty = parse_qty(request.form.get(name))
            check_qty_value(qty, zero_ok=True)
        except ValidationError as exc:
            errors[name] = str(exc)
            continue
        counts[line.id] = qty
    return counts, errors


def _save_counts(st: Stocktake) -> dict[str, str]:
    counts, errors = _read_counts(st)
    if errors:
        return errors
    try:
        services.save_counts(st, counts)
    except DomainError as exc:
        db.session.rollback()
        return {exc.field or "counts": exc.message}
    db.session.commit()
    return {}


@bp.route("/stocktakes/<int:stocktake_id>/counts", methods=["POST"])
@require(COUNT)
def stocktake_counts(stocktake_id: int) -> Response:
    """Save every count typed on the sheet."""
    st = _get(stocktake_id)
    errors = _save_counts(st)
    if errors:
        typed = {k: v for k, v in request.form.items() if k.startswith("counted-")}
        return detail_page(
            get_or_404(Stocktake, stocktake_id), status=422, errors=errors, typed=typed
        )
    return redirect_to("inventory.stocktake_detail", _("Counts saved."), stocktake_id=st.id)


@bp.route("/stocktakes/<int:stocktake_id>/lines/<int:stocktake_line_id>", methods=["POST"])
@require(COUNT)
def stocktake_line_save(stocktake_id: int, stocktake_line_id: int) -> Response:
    """One count, saved as it is typed (HTMX, on change): answers with the line's row."""
    st = _get(stocktake_id)
    line = get_or_404(StocktakeLine, stocktake_line_id)
    if line.stocktake_id != st.id:
        abort(404)
    name = f"counted-{line.id}"
    errors: dict[str, str] = {}
    try:
        qty = parse_qty(request.form.get(name))
        check_qty_value(qty, zero_ok=True)
    except ValidationError as exc:
        errors[name] = str(exc)
    else:
        try:
            services.save_counts(st, {line.id: qty})
        except DomainError as exc:
            db.session.rollback()
            errors[exc.field or name] = exc.message
        else:
            db.session.commit()
    line = get_or_404(StocktakeLine, stocktake_line_id)
    html = render_template(
        "inventory/_stocktake_line.html",
        line=line,
        st=line_stocktake(line),
        can_count=_can_count(line_stocktake(line)),
        errors=errors,
        typed={name: request.form.get(name, "")} if errors else {},
    )
    return current_app.response_class(html, status=422 if errors else 200)


def line_stocktake(line: StocktakeLine) -> Stocktake:
    return get_or_404(Stocktake, line.stocktake_id)


@bp.route("/stocktakes/<int:stocktake_id>/lines", methods=["POST"])
@require(COUNT)
def stocktake_add_line(stocktake_id: int) -> Response:
    """Add an item found on the shelf that the sheet did not list."""
    st = _get(stocktake_id)
    form = StocktakeItemForm()
    if form.validate_on_submit():
        ok, _line = commit_or_show(
            form, lambda: services.add_line(st, form.item_id.data), "item_id"
        )
        if ok:
            return redirect_to("inventory.stocktake_detail", _("Item added."), stocktake_id=st.id)
    return detail_page(get_or_404(Stocktake, stocktake_id), status=422, item_form=form)


@bp.route("/stocktakes/<int:stocktake_id>/submit", methods=["POST"])
@require(COUNT)
def stocktake_submit(stocktake_id: int) -> Response:
    """Save the typed counts, then send the variance for approval."""
    st = _get(stocktake_id)
    full_key = form_key()
    if key_used(full_key):
        return redirect_to("inventory.stocktake_detail", stocktake_id=st.id)  # a double click
    errors = _save_counts(st) if st.status == services.COUNTING else {}
    if errors:
        typed = {k: v for k, v in request.form.items() if k.startswith("counted-")}
        return detail_page(
            get_or_404(Stocktake, stocktake_id), status=422, errors=errors, typed=typed
        )
    st = get_or_404(Stocktake, stocktake_id)
    try:
        services.submit(st, g.membership, key=full_key)
    except DomainError as exc:
        db.session.rollback()
        st = get_or_404(Stocktake, stocktake_id)
        if exc.field:
            return detail_page(st, status=422, errors={exc.field: exc.message})
        return detail_page(st, status=409, notice=exc.message)
    except CommandRefused as exc:
        db.session.rollback()
        return detail_page(
            get_or_404(Stocktake, stocktake_id), status=409, notice=refusal_message(exc.code)
        )
    db.session.commit()
    return redirect_to("inventory.stocktake_detail", _("Submitted."), stocktake_id=st.id)
