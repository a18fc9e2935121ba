"""General requests (通用申请): list mine, create a draft, read one, submit it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, jsonify, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.api import serialize
from suite.api.blueprint import Invalid, bp, error
from suite.api.views.common import json_body, me, optional_str, paging
from suite.auth.permissions import has_permission
from suite.db import db
from suite.errors import DomainError
from suite.requests import services
from suite.requests.models import GeneralRequest
from suite.tenancy import get_or_404
from suite.workflow.models import CommandLog
from suite.workflow.planner import CommandRefused
from suite.workflow.views import PAGES, refusal_message

MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$")  # Numeric(14, 2); never a float


@bp.route("/requests")
def request_list() -> Response:
    """My general requests, newest first.
    ---
    get:
      tags: [requests]
      parameters:
        - after
        - limit
      responses:
        200:
          description: One page of my requests.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/GeneralRequestPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may_create()
    after, limit = paging()
    stmt = sa.select(GeneralRequest).where(GeneralRequest.requester_id == me().id)
    if after is not None:
        stmt = stmt.where(GeneralRequest.id < after)
    rows = list(db.session.scalars(stmt.order_by(GeneralRequest.id.desc()).limit(limit + 1)))
    next_after = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    items = serialize.general_requests(rows)
    return jsonify({"items": items, "next_after": next_after})


def _request_input(body: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    title = optional_str(body, "title", errors, 200)
    if "title" not in errors and not (title or "").strip():
        errors["title"] = [_("This field is required.")]
    amount = body.get("amount")
    if amount is not None and (not isinstance(amount, str) or not MONEY.match(amount)):
        errors["amount"] = [
            _('Give the amount as a string with at most 2 decimals, e.g. "1234.50".')
        ]
    urgency = body.get("urgency", "normal")
    if urgency not in services.URGENCIES:
        errors["urgency"] = [
            _("Choose one of: %(options)s.", options=", ".join(services.URGENCIES))
        ]
    reason = optional_str(body, "reason", errors, 5000)
    if errors:
        raise Invalid(errors)
    return {
        "title": title or "",
        "amount": Decimal(amount) if amount is not None else None,
        "urgency": urgency,
        "reason": reason or "",
    }


@bp.route("/requests", methods=["POST"])
def request_create() -> Response:
    """Create a general request as a draft.
    ---
    post:
      tags: [requests]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/GeneralRequestInput'}
      responses:
        201:
          description: The new draft.
          headers:
            Location:
              description: The request's URL in this API.
              schema: {type: string}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/GeneralRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may_create()
    values = _request_input(json_body({"title", "amount", "urgency", "reason"}))
    try:
        req = services.save(None, me(), **values)
    except DomainError as exc:
        db.session.rollback()
        raise Invalid({exc.field or "body": [exc.message]}) from exc
    db.session.commit()
    resp = jsonify(serialize.general_request(req))
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.request_detail", general_request_id=req.id)
    return resp


def visible_request(general_request_id: int) -> GeneralRequest:
    """The request if the caller may see it (the same rule as its web page), else 404."""
    req = get_or_404(GeneralRequest, general_request_id)
    if not PAGES[services.DOC_TYPE].visible(req):
        abort(404)
    return req


def may_create() -> None:
    """Creating and submitting requests takes `suite.request.create`, as on the pages."""
    if not has_permission("suite.request.create"):
        abort(403)


@bp.route("/requests/<int:general_request_id>")
def request_detail(general_request_id: int) -> Response:
    """One general request.
    ---
    get:
      tags: [requests]
      description: Visible to its requester and to whoever can see its process.
      responses:
        200:
          description: The request.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/GeneralRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify(serialize.general_request(visible_request(general_request_id)))


@bp.route("/requests/<int:general_request_id>/submit", methods=["POST"])
def request_submit(general_request_id: int) -> Response:
    """Submit a draft (or a rejected request): its approval process starts.
    ---
    post:
      tags: [requests]
      requestBody:
        required: false
        content:
          application/json:
            schema: {$ref: '#/components/schemas/SubmitInput'}
      responses:
        200:
          description: Submitted; the process's first answer.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SubmitResult'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may_create()
    req = visible_request(general_request_id)
    if req.requester_id != me().id:
        return error(403, "not_initiator", refusal_message("not_initiator"))
    errors: dict[str, list[str]] = {}
    key = optional_str(json_body({"key"}), "key", errors, 100)
    if errors:
        raise Invalid(errors)
    key = f"api:{me().id}:{key}" if key else None
    log = db.session.scalar(sa.select(CommandLog).where(CommandLog.key == key)) if key else None
    if log is not None:  # a retry: answer as the first time
        result = {**log.result, "replayed": True}
    else:
        try:
            outcome = services.submit(req, me(), key=key)
        except DomainError as exc:
            db.session.rollback()
            return error(409, "refused", exc.message)
        except CommandRefused as exc:
            db.session.rollback()
            return error(exc.status, exc.code, refusal_message(exc.code), exc.details)
        db.session.commit()
        result = {
            "instance_id": outcome.instance_id,
            "status": outcome.status,
            "version": outcome.version,
            "replayed": outcome.replayed,
        }
    req = db.session.get(GeneralRequest, req.id)
    return jsonify({"request": serialize.general_request(req), "result": result})
