"""General request pages (通用申请): my requests, the form, the document page, submit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from suite.auth.permissions import has_permission, require
from suite.db import db
from suite.errors import DomainError
from suite.i18n import money
from suite.requests import services
from suite.requests.forms import GeneralRequestForm
from suite.requests.models import GeneralRequest
from suite.tenancy import get_or_404
from suite.views import bp
from suite.views.filters import choice_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_form, render_page
from suite.workflow.documents import (
    in_department_line,
    instance_of,
    instances_of,
    involved,
    process_flow,
    route_preview,
    submit_from_page,
    visible_or_404,
)
from suite.workflow.history import history
from suite.workflow.panels import panel_for
from suite.workflow.views import DocumentPages, register_pages

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
    if req.requester_id == g.membership.id or has_permission("suite.workflow.manage"):
        return True
    return involved(services.DOC_TYPE, req.id) or in_department_line(req.department_id)


def _get_visible(general_request_id: int) -> GeneralRequest:
    return visible_or_404(GeneralRequest, general_request_id, _visible)


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
    panel = panel_for(
        instance_of(req.instance_id), f"request-{req.id}", notice=notice, failed=failed
    )
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
    return route_preview(services.general_request.template, values, requester)


def detail_page(
    req: GeneralRequest, *, status: int = 200, notice: str | None = None, failed: Any = None
) -> Response:
    ctx = _panel_context(req, notice=notice, failed=failed)
    instance = ctx["panel"].instance
    if ctx["can_submit"]:
        ctx.update(_route(req, services.general_request.values(req)))
    elif instance is not None:
        ctx["flow"] = process_flow(instance)
    ctx["events"] = history(
        instances_of(services.DOC_TYPE, req.id),
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
    status = choice_arg("status", STATUSES)
    stmt = sa.select(GeneralRequest).where(GeneralRequest.requester_id == g.membership.id)
    if status:
        stmt = stmt.where(GeneralRequest.status == status)
    rows, next_before = newest_first(stmt, GeneralRequest.id)
    return render_page(
        "requests/request_list.html",
        "requests/_request_rows.html",
        "request-rows",
        items=rows,
        next_before=next_before,
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
    return submit_from_page(
        lambda key: services.submit(req, g.membership, key=key),
        done=lambda message: redirect_to(
            "suite.request_detail", message, general_request_id=req.id
        ),
        refused=lambda notice: detail_page(
            get_or_404(GeneralRequest, general_request_id), status=409, notice=notice
        ),
    )
