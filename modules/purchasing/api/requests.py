"""Purchase requests (请购单) in the API: list, read, create a draft, submit it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, jsonify
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from modules.purchasing.api import schemas
from modules.purchasing.models import PurchaseOrder, PurchaseRequest, PurchaseRequestLine
from modules.purchasing.services import requests as services
from suite.api.blueprint import Invalid, bp, error
from suite.api.views.common import (
    args,
    commit_or_invalid,
    created,
    json_body,
    may,
    me,
    newest_first,
    optional_str,
    submit_once,
)
from suite.auth.permissions import has_permission
from suite.db import db
from suite.tenancy import get_or_404
from suite.workflow.views import PAGES, refusal_message

CREATE, READ_ALL = "purchasing.request.create", "purchasing.request.read_all"
QTY = re.compile(r"^\d{1,11}(\.\d{1,3})?$")
MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
LINE_FIELDS = {"item_id", "supplier_id", "qty", "unit_price", "description"}


def _json(rows: list[PurchaseRequest]) -> list[dict[str, Any]]:
    who = schemas.people(r.requester_id for r in rows)
    orders: dict[int, list[int]] = {}
    if rows:
        for order_id, request_id in db.session.execute(
            sa.select(PurchaseOrder.id, PurchaseOrder.request_id)
            .where(PurchaseOrder.request_id.in_([r.id for r in rows]))
            .order_by(PurchaseOrder.id)
        ):
            orders.setdefault(request_id, []).append(order_id)
    return [schemas.purchase_request(r, who, orders.get(r.id, [])) for r in rows]


def _visible(purchase_request_id: int) -> PurchaseRequest:
    """The request if the caller may see it (the rule of its web page), else 404."""
    req = get_or_404(PurchaseRequest, purchase_request_id)
    pages = PAGES.get(services.DOC_TYPE)
    visible = pages.visible(req) if pages else req.requester_id == me().id
    if not visible:
        abort(404)
    return req


@bp.route("/purchase-requests")
def purchase_request_list() -> Response:
    """Purchase requests, newest first: mine, or all for buyers and finance.
    ---
    get:
      tags: [purchasing]
      parameters:
        - name: scope
          in: query
          description: '`all` needs purchasing.request.read_all; the default is `mine` for
            those who raise requests, else `all`.'
          schema: {type: string, enum: [mine, all]}
        - name: status
          in: query
          schema: {type: string, enum: [draft, submitted, approved, ordered, rejected]}
        - after
        - limit
      responses:
        200:
          description: One page of requests with their lines.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PurchaseRequestPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(CREATE, READ_ALL)
    q = args(scope=("mine", "all"), status=schemas.REQUEST_STATUSES)
    scope = q["scope"] or ("mine" if has_permission(CREATE) else "all")
    if scope == "all":
        may(READ_ALL)
    stmt = sa.select(PurchaseRequest).options(
        selectinload(PurchaseRequest.lines).joinedload(PurchaseRequestLine.item),
        selectinload(PurchaseRequest.lines).joinedload(PurchaseRequestLine.supplier),
        joinedload(PurchaseRequest.department),
    )
    if scope == "mine":
        stmt = stmt.where(PurchaseRequest.requester_id == me().id)
    if q["status"]:
        stmt = stmt.where(PurchaseRequest.status == q["status"])
    rows, next_after = newest_first(stmt, PurchaseRequest.id)
    return jsonify({"items": _json(rows), "next_after": next_after})


@bp.route("/purchase-requests/<int:purchase_request_id>")
def purchase_request_detail(purchase_request_id: int) -> Response:
    """One purchase request with its lines and the orders made from it.
    ---
    get:
      tags: [purchasing]
      description: Visible to its requester, buyers and finance, its approvers and the
        requester's department line.
      responses:
        200:
          description: The request.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PurchaseRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify(_json([_visible(purchase_request_id)])[0])


def _lines(value: Any, errors: dict[str, list[str]]) -> list[services.LineInput]:
    if not isinstance(value, list) or not value:
        errors["lines"] = [_("Add at least one line.")]
        return []
    out = []
    for n, line in enumerate(value):
        at = f"lines[{n}]"
        if not isinstance(line, dict) or set(line) - LINE_FIELDS:
            errors[at] = [_("Give item_id, supplier_id, qty, unit_price and description only.")]
            continue
        item_id, supplier_id = line.get("item_id"), line.get("supplier_id")
        if isinstance(item_id, bool) or not isinstance(item_id, int):
            errors[f"{at}.item_id"] = [_("Give a whole number.")]
        if supplier_id is not None and (
            isinstance(supplier_id, bool) or not isinstance(supplier_id, int)
        ):
            errors[f"{at}.supplier_id"] = [_("Give a whole number.")]
        qty, price = line.get("qty"), line.get("unit_price")
        if not isinstance(qty, str) or not QTY.match(qty):
            errors[f"{at}.qty"] = [_('Give the quantity as a string, e.g. "500".')]
        if not isinstance(price, str) or not MONEY.match(price):
            errors[f"{at}.unit_price"] = [
                _('Give the amount as a string with at most 2 decimals, e.g. "1234.50".')
            ]
        description = line.get("description", "")
        if not isinstance(description, str) or len(description) > 300:
            errors[f"{at}.description"] = [_("At most %(max)d characters.", max=300)]
        if not any(k.startswith(at) for k in errors):
            out.append(
                services.LineInput(item_id, supplier_id, Decimal(qty), Decimal(price), description)
            )
    return out


def _field(name: str | None) -> str:
    """The service's form field name as the API's: `lines-0-qty` -> `lines[0].qty`."""
    match = re.fullmatch(r"lines-(\d+)-(\w+)", name or "")
    return f"lines[{match.group(1)}].{match.group(2)}" if match else (name or "body")


@bp.route("/purchase-requests", methods=["POST"])
def purchase_request_create() -> Response:
    """Create a purchase request as a draft.
    ---
    post:
      tags: [purchasing]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/PurchaseRequestInput'}
      responses:
        201:
          description: The new draft.
          headers:
            Location: {description: The request's URL in this API., schema: {type: string}}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PurchaseRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(CREATE)
    body = json_body({"project", "reason", "is_asset", "lines"})
    errors: dict[str, list[str]] = {}
    project = optional_str(body, "project", errors, 120) or ""
    reason = optional_str(body, "reason", errors, 5000) or ""
    is_asset = body.get("is_asset", False)
    if not isinstance(is_asset, bool):
        errors["is_asset"] = [_("Give true or false.")]
    lines = _lines(body.get("lines"), errors)
    if errors:
        raise Invalid(errors)
    req = commit_or_invalid(
        lambda: services.save_request(
            None, me(), lines=lines, project=project, reason=reason, is_asset=is_asset
        ),
        _field,
    )
    return created(_json([req])[0], "api.purchase_request_detail", purchase_request_id=req.id)


@bp.route("/purchase-requests/<int:purchase_request_id>/submit", methods=["POST"])
def purchase_request_submit(purchase_request_id: int) -> Response:
    """Submit a draft (or a rejected request): its approval process starts.
    ---
    post:
      tags: [purchasing]
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
              schema: {$ref: '#/components/schemas/PurchaseRequestSubmitResult'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(CREATE)
    req = _visible(purchase_request_id)
    if req.requester_id != me().id:
        return error(403, "not_initiator", refusal_message("not_initiator"))
    result = submit_once(lambda key: services.submit_request(req, me(), key=key))
    if isinstance(result, Response):
        return result
    req = get_or_404(PurchaseRequest, purchase_request_id)
    return jsonify({"request": _json([req])[0], "result": result})
