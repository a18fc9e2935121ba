"""General requests (通用申请): list mine, create a draft, read one, submit it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import jsonify
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.api import serialize
from suite.api.blueprint import Invalid, bp, error
from suite.api.views.common import (
    commit_or_invalid,
    created,
    json_body,
    may,
    me,
    newest_first,
    optional_str,
    submit_once,
)
from suite.db import db
from suite.requests import services
from suite.requests.models import GeneralRequest
from suite.workflow.documents import visible_or_404
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
    stmt = sa.select(GeneralRequest).where(GeneralRequest.requester_id == me().id)
    rows, next_after = newest_first(stmt, GeneralRequest.id)
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
    req = commit_or_invalid(lambda: services.save(None, me(), **values))
    return created(serialize.general_request(req), "api.request_detail", general_request_id=req.id)


def visible_request(general_request_id: int) -> GeneralRequest:
    """The request if the caller may see it (the same rule as its web page), else 404."""
    return visible_or_404(GeneralRequest, general_request_id, PAGES[services.DOC_TYPE].visible)


def may_create() -> None:
    """Creating and submitting requests takes `suite.request.create`, as on the pages."""
    may("suite.request.create")


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
    result = submit_once(lambda key: services.submit(req, me(), key=key))
    if isinstance(result, Response):
        return result
    req = db.session.get(GeneralRequest, req.id)
    return jsonify({"request": serialize.general_request(req), "result": result})
