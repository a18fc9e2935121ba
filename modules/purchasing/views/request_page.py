"""The purchase request's document page: who sees it, its process panel and route, history;
registered with the workflow kernel so the inbox's commands answer with its fragments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from modules.purchasing.forms import AssetNumberForm
from modules.purchasing.models import PurchaseRequest
from modules.purchasing.services import requests as services
from suite.auth.models import Department
from suite.auth.permissions import has_permission
from suite.db import db
from suite.i18n import money
from suite.tenancy import get_or_404
from suite.web import render_page
from suite.workflow.definitions import definition_for
from suite.workflow.drawing import render_flow
from suite.workflow.history import history
from suite.workflow.models import ProcessInstance, WorkflowTask
from suite.workflow.panels import current_nodes, flow_labels, locale, panel_for, passed_nodes
from suite.workflow.preview import preview
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


def _department_line(department_id: int | None) -> set[int]:
    """The department and the ones above it (their members see its documents)."""
    out: set[int] = set()
    while department_id is not None and department_id not in out:
        out.add(department_id)
        department_id = db.session.scalar(
            sa.select(Department.parent_id).where(Department.id == department_id)
        )
    return out


def visible(req: PurchaseRequest) -> bool:
    """Requester, buyers and finance, anyone with a task on it, the department line."""
    me = g.membership
    if req.requester_id == me.id or has_permission("purchasing.request.read_all"):
        return True
    if has_permission("suite.workflow.manage"):
        return True
    involved = db.session.scalar(
        sa.select(WorkflowTask.id)
        .join(ProcessInstance, ProcessInstance.id == WorkflowTask.instance_id)
        .where(
            ProcessInstance.document_type == services.DOC_TYPE,
            ProcessInstance.document_id == req.id,
            WorkflowTask.assignee_id == me.id,
        )
        .limit(1)
    )
    if involved:
        return True
    return me.department_id is not None and me.department_id in _department_line(req.department_id)


def get_visible(purchase_request_id: int) -> PurchaseRequest:
    req = get_or_404(PurchaseRequest, purchase_request_id)
    if not visible(req):
        abort(404)
    return req


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
    instance = db.session.get(ProcessInstance, req.instance_id) if req.instance_id else None
    panel = panel_for(instance, f"purchase-request-{req.id}", notice=notice, failed=failed)
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
    definition = definition_for(services.purchase_request_type.template)
    spec = definition.current_version.spec
    steps = preview(spec, values, requester, locale=locale())
    labels = flow_labels() | {s.node: "、".join(s.names) for s in steps if s.names}
    flow = render_flow(spec, highlight=(), done=(), label_locale=locale(), labels=labels)
    return {"route": steps, "route_flow": flow}


def _instances(req: PurchaseRequest) -> list[ProcessInstance]:
    return list(
        db.session.scalars(
            sa.select(ProcessInstance)
            .where(
                ProcessInstance.document_type == services.DOC_TYPE,
                ProcessInstance.document_id == req.id,
            )
            .order_by(ProcessInstance.id.desc())
        )
    )


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
        ctx["flow"] = render_flow(
            instance.process_version.spec,
            highlight=current_nodes(instance),
            done=passed_nodes(instance),
            label_locale=locale(),
            labels=flow_labels(instance),
        )
    ctx["events"] = history(
        _instances(req),
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
