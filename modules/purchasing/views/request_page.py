"""The purchase request's document page: who sees it, its process panel and route, history;
registered with the workflow kernel so the inbox's commands answer with its fragments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from modules.purchasing.forms import AssetNumberForm
from modules.purchasing.models import PurchaseRequest
from modules.purchasing.services import requests as services
from suite.auth.permissions import has_permission
from suite.i18n import money
from suite.web import render_page
from suite.workflow.documents import (
    in_department_line,
    instance_of,
    instances_of,
    involved,
    process_flow,
    route_preview,
    visible_or_404,
)
from suite.workflow.history import history
from suite.workflow.panels import panel_for
from suite.workflow.views import DocumentPages, register_pages

STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("In approval"),
    "approved": _l("Approved"),
    "ordered": _l("Ordered"),
    "rejected": _l("Rejected"),
}
FIELDS = {
    "project": _l("Project"),
    "reason": _l("Reason"),
    "is_asset": _l("Fixed asset"),
    "asset_number": _l("Asset number"),
    "amount_total": _l("Total"),
}


# --- who sees what --------------------------------------------------------------------------------


def visible(req: PurchaseRequest) -> bool:
    """Requester, buyers and finance, anyone with a task on it, the department line."""
    me = g.membership
    if req.requester_id == me.id or has_permission("purchasing.request.read_all"):
        return True
    if has_permission("suite.workflow.manage"):
        return True
    return involved(services.DOC_TYPE, req.id) or in_department_line(req.department_id)


def get_visible(purchase_request_id: int) -> PurchaseRequest:
    return visible_or_404(PurchaseRequest, purchase_request_id, visible)


def _is_mine(req: PurchaseRequest) -> bool:
    return req.requester_id == g.membership.id


def can_edit(req: PurchaseRequest) -> bool:
    return _is_mine(req) and (
        req.status in services.EDITABLE or services.returned_task(req) is not None
    )


def _can_asset(req: PurchaseRequest) -> bool:
    return (
        req.is_asset
        and req.status == services.APPROVED
        and has_permission("purchasing.request.asset_number")
    )


# --- the document page ----------------------------------------------------------------------------


def _panel_context(
    req: PurchaseRequest, *, notice: str | None = None, failed: Any = None
) -> dict[str, Any]:
    panel = panel_for(
        instance_of(req.instance_id), f"purchase-request-{req.id}", notice=notice, failed=failed
    )
    return {
        "req": req,
        "panel": panel,
        "can_edit": can_edit(req),
        "can_submit": _is_mine(req) and req.status in services.EDITABLE,
        "can_asset": _can_asset(req),
        "submit_key": panel.key(),
        "statuses": STATUSES,
    }


def route_of(req: PurchaseRequest | None, values: dict[str, Any]) -> dict[str, Any]:
    """The route a draft would take now, as a list and as a drawing."""
    requester = req.requester_id if req is not None else g.membership.id
    return route_preview(services.purchase_request_type.template, values, requester)


def detail_page(
    req: PurchaseRequest,
    *,
    status: int = 200,
    notice: str | None = None,
    failed: Any = None,
    asset_form: AssetNumberForm | None = None,
) -> Response:
    ctx = _panel_context(req, notice=notice, failed=failed)
    instance = ctx["panel"].instance
    if ctx["can_submit"]:
        ctx.update(route_of(req, services.purchase_request_type.values(req)))
    elif instance is not None:
        ctx["flow"] = process_flow(instance)
    ctx["events"] = history(
        instances_of(services.DOC_TYPE, req.id),
        "purchase_request",
        req.id,
        fields=FIELDS,
        formats={
            "amount_total": lambda v: money(Decimal(str(v))),
            "is_asset": lambda v: _("Yes") if v else _("No"),
        },
    )
    from modules.purchasing.views.orders import STATUSES as ORDER_STATUSES

    ctx["orders"] = services.orders_of(req)
    ctx["order_statuses"] = ORDER_STATUSES
    ctx["can_see_orders"] = has_permission("purchasing.order.read")
    ctx["asset_form"] = asset_form or AssetNumberForm(formdata=None)
    return render_page(
        "purchasing/request_detail.html",
        "purchasing/_request_status.html",
        f"purchase-request-{req.id}-status",
        status=status,
        **ctx,
    )


register_pages(
    services.DOC_TYPE,
    DocumentPages(
        status="purchasing/_request_status.html",
        actions="purchasing/_request_actions.html",
        context=_panel_context,
        page=detail_page,
        visible=visible,
    ),
)
