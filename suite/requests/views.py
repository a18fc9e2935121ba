"""General request pages (通用申请): my requests, the form, the document page, submit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from suite.auth.models import Department
from suite.auth.permissions import has_permission, require
from suite.db import db
from suite.errors import DomainError
from suite.i18n import money
from suite.requests import services
from suite.requests.forms import GeneralRequestForm
from suite.requests.models import GeneralRequest
from suite.tenancy import get_or_404
from suite.views import bp
from suite.web import redirect_to, render_form, render_page
from suite.workflow.definitions import definition_for
from suite.workflow.drawing import render_flow
from suite.workflow.history import history
from suite.workflow.models import CommandLog, ProcessInstance, WorkflowTask
from suite.workflow.panels import (
    current_nodes,
    flow_labels,
    locale,
    panel_for,
    passed_nodes,
)
from suite.workflow.planner import CommandRefused
from suite.workflow.preview import preview
from suite.workflow.views import DocumentPages, refusal_message, register_pages

STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("In approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
URGENCY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High")}
FIELDS = {
    "title": _l("Title"),
    "amount": _l("Amount"),
    "urgency": _l("Urgency"),
    "reason": _l("Reason"),
}


def _visible(req: GeneralRequest) -> bool:
    """Requester, anyone with a task on it, the requester's department line, process admins."""
    me = g.membership
    if req.requester_id == me.id or has_permission("suite.workflow.manage"):
        return True
    involved = db.session.scalar(
        sa.select(sa.func.count(WorkflowTask.id))
        .join(ProcessInstance, ProcessInstance.id == WorkflowTask.instance_id)
        .where(
            ProcessInstance.document_type == services.DOC_TYPE,
            ProcessInstance.document_id == req.id,
            WorkflowTask.assignee_id == me.id,
        )
    )
    if involved:
        return True
    return me.department_id is not None and me.department_id in _department_line(req.department_id)


def _department_line(department_id: int | None) -> set[int]:
    """The department and the ones above it (their members see its documents)."""
    out: set[int] = set()
    while department_id is not None and department_id not in out:
        out.add(department_id)
        department_id = db.session.scalar(
            sa.select(Department.parent_id).where(Department.id == department_id)
        )
    return out


def _get_visible(general_request_id: int) -> GeneralRequest:
    req = get_or_404(GeneralRequest, general_request_id)
    if not _visible(req):
        abort(404)
    return req


def _instances(req: GeneralRequest) -> list[ProcessInstance]:
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


def _is_mine(req: GeneralRequest) -> bool:
    return req.requester_id == g.membership.id


def _can_edit(req: GeneralRequest) -> bool:
    """The requester, on a draft, a rejected request, or one sent back to them (退回)."""
    return _is_mine(req) and (
        req.status in services.EDITABLE or services.returned_task(req) is not None
    )


def _panel_context(
    req: GeneralRequest, *, notice: str | None = None, failed: Any = None
) -> dict[str, Any]:
    instance = db.session.get(ProcessInstance, req.instance_id) if req.instance_id else None
    panel = panel_for(instance, f"request-{req.id}", notice=notice, failed=failed)
    return {
        "req": req,
        "panel": panel,
        "can_edit": _can_edit(req),
        "can_submit": _is_mine(req) and req.status in services.EDITABLE,
        "submit_key": panel.key(),
        "statuses": STATUSES,
    }


def _route(req: GeneralRequest | None, values: dict[str, Any]) -> dict[str, Any]:
    """The route a draft would take now, as a list and as a drawing."""
    requester = req.requester_id if req is not None else g.membership.id
    definition = definition_for(services.general_request.template)
    spec = definition.current_version.spec
    steps = preview(spec, values, requester, locale=locale())
    labels = flow_labels() | {s.node: "、".join(s.names) for s in steps if s.names}
    flow = render_flow(spec, highlight=(), done=(), label_locale=locale(), labels=labels)
    return {"route": steps, "route_flow": flow, "route_spec": spec}


def detail_page(
    req: GeneralRequest, *, status: int = 200, notice: str | None = None, failed: Any = None
) -> Response:
    ctx = _panel_context(req, notice=notice, failed=failed)
    instance = ctx["panel"].instance
    if ctx["can_submit"]:
        ctx.update(_route(req, services.general_request.values(req)))
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
        "general_request",
        req.id,
        fields=FIELDS,
        formats={
            "amount": lambda v: money(Decimal(str(v))),
            "urgency": lambda v: URGENCY_LABELS.get(v, v),
        },
    )
    ctx["urgencies"] = URGENCY_LABELS
    return render_page(
        "requests/request_detail.html",
        "requests/_request_status.html",
        f"request-{req.id}-status",
        status=status,
        **ctx,
    )


register_pages(
    services.DOC_TYPE,
    DocumentPages(
        status="requests/_request_status.html",
        actions="requests/_request_actions.html",
        context=_panel_context,
        page=detail_page,
        visible=_visible,
    ),
)


# --- pages ----------------------------------------------------------------------------------------


@bp.route("/requests")
@require("suite.request.create")
def request_list() -> Response:
    size = current_app.config["SUITE_PAGE_SIZE"]
    status = request.args.get("status") or None
    status = status if status in STATUSES else None
    stmt = sa.select(GeneralRequest).where(GeneralRequest.requester_id == g.membership.id)
    if status:
        stmt = stmt.where(GeneralRequest.status == status)
    before = request.args.get("before", type=int)
    if before is not None:
        stmt = stmt.where(GeneralRequest.id < before)
    rows = list(db.session.scalars(stmt.order_by(GeneralRequest.id.desc()).limit(size + 1)))
    return render_page(
        "requests/request_list.html",
        "requests/_request_rows.html",
        "request-rows",
        items=rows[:size],
        next_before=rows[size - 1].id if len(rows) > size else None,
        status=status,
        statuses=STATUSES,
    )


def _save(form: GeneralRequestForm, req: GeneralRequest | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    try:
        req = services.save(
            req,
            g.membership,
            title=form.title.data,
            amount=form.amount.data,
            urgency=form.urgency.data,
            reason=form.reason.data or "",
        )
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "title").errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("suite.request_detail", _("Saved."), general_request_id=req.id)


def _form_page(form: GeneralRequestForm, req: GeneralRequest | None) -> Response:
    values = {"amount": form.amount.data if not form.amount.errors else None}
    values |= {"title": form.title.data or "", "urgency": form.urgency.data or "normal"}
    return render_form(
        "requests/request_form.html",
        "requests/_request_form.html",
        "request-form",
        form,
        req=req,
        **_route(req, values),
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@require("suite.request.create")
def request_new() -> Response:
    form = GeneralRequestForm()
    return _save(form, None) or _form_page(form, None)


@bp.route("/requests/<int:general_request_id>/edit", methods=["GET", "POST"])
@require("suite.request.create")
def request_edit(general_request_id: int) -> Response:
    req = _get_visible(general_request_id)
    if not _can_edit(req):
        return redirect_to("suite.request_detail", general_request_id=req.id)
    form = GeneralRequestForm(obj=req if request.method == "GET" else None)
    return _save(form, req) or _form_page(form, req)


@bp.route("/requests/route-preview")
@require("suite.request.create")
def request_route_preview() -> Response:
    """The route for the values being typed (the form's live preview)."""
    form = GeneralRequestForm(request.args, meta={"csrf": False})
    form.validate()
    values = {"amount": None if form.amount.errors else form.amount.data}
    values |= {"title": form.title.data or "", "urgency": form.urgency.data or "normal"}
    return render_page(
        "requests/request_form.html",
        "requests/_request_route.html",
        "request-route",
        form=form,
        req=None,
        **_route(None, values),
    )


@bp.route("/requests/<int:general_request_id>")
@login_required
def request_detail(general_request_id: int) -> Response:
    return detail_page(_get_visible(general_request_id))


@bp.route("/requests/<int:general_request_id>/submit", methods=["POST"])
@require("suite.request.create")
def request_submit(general_request_id: int) -> Response:
    req = _get_visible(general_request_id)
    key = (request.form.get("key") or "").strip()[:64]
    full_key = f"ui:{g.membership.id}:{key}" if key else None
    if full_key and db.session.scalar(sa.select(CommandLog.id).where(CommandLog.key == full_key)):
        return redirect_to("suite.request_detail", general_request_id=req.id)  # a double click
    try:
        services.submit(req, g.membership, key=full_key)
    except (DomainError, CommandRefused) as exc:  # e.g. submitted in another tab meanwhile
        db.session.rollback()
        notice = exc.message if isinstance(exc, DomainError) else refusal_message(exc.code)
        return detail_page(
            get_or_404(GeneralRequest, general_request_id), status=409, notice=notice
        )
    db.session.commit()
    return redirect_to("suite.request_detail", _("Submitted."), general_request_id=req.id)
