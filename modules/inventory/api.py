"""Items and stock balances in the JSON API: list, read, create and change items (with on hand
and moving-average cost); stock balances by item, location or warehouse.

Registered on the kernel's API blueprint (Manifest.api); the rules are `modules.inventory.master`'s.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from modules.inventory import master
from modules.inventory.models import UNITS, Item, Location, StockBalance
from suite.api.blueprint import Invalid, bp
from suite.api.serialize import iso, money
from suite.api.spec import BOOL, INT, MONEY, QTY, STR, TIME, nullable, obj, ref
from suite.api.views.common import (
    args,
    commit_or_invalid,
    created,
    json_body,
    may,
    newest_first,
    paging,
)
from suite.tenancy import get_or_404

ZERO = Decimal(0)
DECIMAL = re.compile(r"^\d{1,12}(\.\d{1,3})?$")  # what the API accepts for qty and money
COST = {"type": "string", "pattern": r"^\d{1,14}(\.\d{1,4})?$", "example": "2.4000"}
FIELDS = (
    "code",
    "name",
    "unit",
    "category_id",
    "barcode",
    "reorder_point",
    "reorder_qty",
    "standard_price",
    "is_stock",
    "active",
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "ItemRef": obj(["id", "code", "name"], id=INT, code=STR, name=STR),
    "Item": obj(
        [*FIELDS, "id", "category", "on_hand", "stock_value", "avg_cost", "created_at"],
        id=INT,
        code=STR,
        name=STR,
        unit={**STR, "enum": list(UNITS)},
        category_id=nullable(INT),
        category=nullable(STR),
        barcode=nullable(STR),
        reorder_point=QTY,
        reorder_qty=QTY,
        standard_price=MONEY,
        is_stock=BOOL,
        active=BOOL,
        on_hand={**QTY, "description": "Summed over every location."},
        stock_value=MONEY,
        avg_cost=nullable({**COST, "description": "Moving-average unit cost; null at 0 on hand."}),
        created_at=TIME,
    ),
    "ItemInput": {
        **obj(
            [],
            code={**STR, "maxLength": 40},
            name={**STR, "maxLength": 200},
            unit={**STR, "enum": list(UNITS), "default": "pcs"},
            category_id=nullable(INT),
            barcode=nullable({**STR, "maxLength": 60}),
            reorder_point=QTY,
            reorder_qty=QTY,
            standard_price=MONEY,
            is_stock={**BOOL, "default": True},
            active={**BOOL, "default": True},
        ),
        "additionalProperties": False,
        "description": "Create: `code` and `name` are required. Change: only the fields sent. "
        'Quantities and money are strings (`"500"`, `"2.40"`).',
    },
    "ItemPage": obj(
        ["items", "next_after"],
        items={"type": "array", "items": ref("Item")},
        next_after=nullable(INT),
    ),
    "StockBalance": obj(
        ["id", "item", "location", "qty", "value", "avg_cost", "updated_at"],
        id=INT,
        item=ref("ItemRef"),
        location=obj(
            ["id", "code", "name", "warehouse_id"], id=INT, code=STR, name=STR, warehouse_id=INT
        ),
        qty=QTY,
        value=MONEY,
        avg_cost=nullable(COST),
        updated_at=TIME,
    ),
    "StockBalancePage": obj(
        ["items", "next_after"],
        items={"type": "array", "items": ref("StockBalance")},
        next_after=nullable(INT),
    ),
}


def qty(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.001")))


def _cost(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def item_json(i: Item, totals: dict[int, tuple[Decimal, Decimal]]) -> dict[str, Any]:
    on_hand, value = totals.get(i.id, (ZERO, ZERO))
    return {
        "id": i.id,
        "code": i.code,
        "name": i.name,
        "unit": i.unit,
        "category_id": i.category_id,
        "category": i.category.name if i.category else None,
        "barcode": i.barcode,
        "reorder_point": qty(i.reorder_point),
        "reorder_qty": qty(i.reorder_qty),
        "standard_price": money(i.standard_price),
        "is_stock": i.is_stock,
        "active": i.active,
        "on_hand": qty(on_hand),
        "stock_value": money(value),
        "avg_cost": _cost(master.average_cost(on_hand, value)),
        "created_at": iso(i.created_at),
    }


@bp.route("/items")
def item_list() -> Response:
    """Items with on hand and moving-average cost, newest first.
    ---
    get:
      tags: [items]
      parameters:
        - {name: q, in: query, schema: {type: string}, description: 'Code, name or barcode.'}
        - {name: category_id, in: query, schema: {type: integer}}
        - {name: kind, in: query, schema: {type: string, enum: [stock, non_stock]}}
        - name: status
          in: query
          schema: {type: string, enum: [active, inactive, all], default: all}
        - after
        - limit
      responses:
        200:
          description: One page of items.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ItemPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may("inventory.item.read")
    paging()  # a bad after or limit is refused before the filters
    q = args(category_id=None, kind=master.KINDS, status=master.STATUSES)
    text = request.args.get("q", "")[:100]
    stmt = master.item_query(text, q["category_id"], q["kind"], q["status"] or "all")
    rows, next_after = newest_first(stmt.options(selectinload(Item.category)), Item.id)
    totals = master.stock_totals([i.id for i in rows])
    return jsonify({"items": [item_json(i, totals) for i in rows], "next_after": next_after})


def _decimal(body: dict[str, Any], name: str, errors: dict[str, list[str]]) -> Decimal | None:
    value = body[name]
    if not isinstance(value, str) or not DECIMAL.match(value):
        errors[name] = [_('Give a number as a string, e.g. "500" or "2.40".')]
        return None
    return Decimal(value)


def _input(body: dict[str, Any], item: Item | None) -> master.ItemInput:
    """The body merged over the item's values (or the defaults); every problem raises Invalid."""
    errors: dict[str, list[str]] = {}
    data = master.ItemInput(code="", name="")
    if item is not None:
        data = master.ItemInput(
            **{k: getattr(item, k) for k in FIELDS if k != "barcode"}, barcode=item.barcode or ""
        )
    for name in ("code", "name", "unit"):
        if name in body:
            if isinstance(body[name], str):
                setattr(data, name, body[name])
            else:
                errors[name] = [_("Give a text.")]
    if "barcode" in body:
        if body["barcode"] is None or isinstance(body["barcode"], str):
            data.barcode = body["barcode"] or ""
        else:
            errors["barcode"] = [_("Give a text.")]
    if "category_id" in body:
        value = body["category_id"]
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            data.category_id = value
        else:
            errors["category_id"] = [_("Give a whole number.")]
    for name in ("reorder_point", "reorder_qty", "standard_price"):
        if name in body and (value := _decimal(body, name, errors)) is not None:
            setattr(data, name, value)
    for name in ("is_stock", "active"):
        if name in body:
            if isinstance(body[name], bool):
                setattr(data, name, body[name])
            else:
                errors[name] = [_("Give true or false.")]
    for name, message in master.item_problems(data, item).items():
        errors.setdefault(name, [message])
    if errors:
        raise Invalid(errors)
    return data


def _save(item: Item | None, body: dict[str, Any]) -> Item:
    data = _input(body, item)
    return commit_or_invalid(lambda: master.save_item(item, data))


def _one(item: Item) -> Response:
    return jsonify(item_json(item, master.stock_totals([item.id])))


@bp.route("/items", methods=["POST"])
def item_create() -> Response:
    """Create an item.
    ---
    post:
      tags: [items]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ItemInput'}
      responses:
        201:
          description: The new item.
          headers:
            Location: {description: The item's URL in this API., schema: {type: string}}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may("inventory.item.manage")
    item = _save(None, json_body(set(FIELDS)))
    body = item_json(item, master.stock_totals([item.id]))
    return created(body, "api.item_detail", item_id=item.id)


@bp.route("/items/<int:item_id>")
def item_detail(item_id: int) -> Response:
    """One item with on hand and moving-average cost.
    ---
    get:
      tags: [items]
      responses:
        200:
          description: The item.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    may("inventory.item.read")
    return _one(get_or_404(Item, item_id))


@bp.route("/items/<int:item_id>", methods=["PATCH"])
def item_update(item_id: int) -> Response:
    """Change an item: only the fields sent.
    ---
    patch:
      tags: [items]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ItemInput'}
      responses:
        200:
          description: The item as changed.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may("inventory.item.manage")
    item = get_or_404(Item, item_id)
    return _one(_save(item, json_body(set(FIELDS))))


@bp.route("/stock-balances")
def stock_balance_list() -> Response:
    """Stock on hand per item and location (non-zero balances), newest first.
    ---
    get:
      tags: [stock]
      parameters:
        - {name: item_id, in: query, schema: {type: integer}}
        - {name: location_id, in: query, schema: {type: integer}}
        - {name: warehouse_id, in: query, schema: {type: integer}}
        - after
        - limit
      responses:
        200:
          description: One page of balances.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/StockBalancePage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may("inventory.item.read")
    paging()  # a bad after or limit is refused before the filters
    q = args(item_id=None, location_id=None, warehouse_id=None)
    item_id, location_id, warehouse_id = q["item_id"], q["location_id"], q["warehouse_id"]
    stmt = sa.select(StockBalance).where(StockBalance.qty != ZERO)
    if item_id is not None:
        stmt = stmt.where(StockBalance.item_id == item_id)
    if location_id is not None:
        stmt = stmt.where(StockBalance.location_id == location_id)
    if warehouse_id is not None:
        stmt = stmt.join(Location, Location.id == StockBalance.location_id).where(
            Location.warehouse_id == warehouse_id
        )
    stmt = stmt.options(joinedload(StockBalance.item), joinedload(StockBalance.location))
    rows, next_after = newest_first(stmt, StockBalance.id)
    items = [
        {
            "id": b.id,
            "item": {"id": b.item.id, "code": b.item.code, "name": b.item.name},
            "location": {
                "id": b.location.id,
                "code": b.location.code,
                "name": b.location.name,
                "warehouse_id": b.location.warehouse_id,
            },
            "qty": qty(b.qty),
            "value": money(b.value),
            "avg_cost": _cost(master.average_cost(b.qty, b.value)),
            "updated_at": iso(b.updated_at),
        }
        for b in rows
    ]
    return jsonify({"items": items, "next_after": next_after})
