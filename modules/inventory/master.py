"""Inventory master data: items, categories, warehouses and their locations.

The rules live here once for the pages, the JSON API and imports: each `*_problems()` returns
every problem as {field: message}; `save_*()` refuses with the first one (DomainError(field)).
Stock itself only changes through `modules.inventory.stock.post()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from modules.inventory.models import UNITS, Item, ItemCategory, Location, StockBalance, Warehouse
from suite.db import db
from suite.errors import DomainError
from suite.queries import by_active, contains

UNIT_LABELS = {
    "pcs": _l("Piece"),
    "bag": _l("Bag"),
    "box": _l("Box"),
    "kg": _l("Kilogram"),
    "t": _l("Tonne"),
    "m": _l("Metre"),
    "l": _l("Litre"),
    "set": _l("Set"),
}


def unit_label(code: str | None) -> str:
    """A unit code in the page's language (`pcs` -> 个 / Piece); an unknown code as it is.

    Registered as the `unit_label` Jinja filter: every page and print shows units through it."""
    if not code:
        return ""
    label = UNIT_LABELS.get(code)
    return code if label is None else str(label)


KINDS = ("stock", "non_stock")
STATUSES = ("active", "inactive", "all")
CODE = re.compile(r"^\S+$")
BARCODE = re.compile(r"^[0-9A-Za-z\-.]+$")
MAX_QTY = Decimal("99999999999.999")  # Numeric(14, 3)
MAX_MONEY = Decimal("999999999999.99")  # Numeric(14, 2)
COST = Decimal("0.0001")
DEFAULT_LOCATION = "MAIN"


@dataclass
class ItemInput:
    """What a person or a script may set on an item."""

    code: str
    name: str
    unit: str = "pcs"
    category_id: int | None = None
    barcode: str = ""
    reorder_point: Decimal = Decimal(0)
    reorder_qty: Decimal = Decimal(0)
    standard_price: Decimal = Decimal(0)
    is_stock: bool = True
    active: bool = True


def _code_problem(code: str, limit: int) -> str | None:
    if not code:
        return _("This field is required.")
    if len(code) > limit:
        return _("At most %(max)d characters.", max=limit)
    if not CODE.match(code):
        return _("A code has no spaces.")
    return None


def decimal_problem(value: object, places: int, maximum: Decimal) -> str | None:
    """None when `value` is a Decimal from 0 to `maximum` with at most `places` decimals."""
    if not isinstance(value, Decimal):
        return _("Not a valid number.")
    try:
        if not value.is_finite():
            raise InvalidOperation
        exact = value == value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        return _("Not a valid number.")
    if value < 0:
        return _("Must be zero or more.")
    if value > maximum:
        return _("The number is too large.")
    if not exact:
        return _("At most %(places)d decimal places.", places=places)
    return None


# --- items ----------------------------------------------------------------------------------------


def item_problems(data: ItemInput, item: Item | None = None) -> dict[str, str]:
    """Every problem with `data` as {field: message}; empty when it may be saved."""
    problems: dict[str, str] = {}
    code, name, barcode = data.code.strip(), data.name.strip(), data.barcode.strip()
    if message := _code_problem(code, 40):
        problems["code"] = message
    elif (other := _other(Item, Item.code, code, item)) is not None:
        problems["code"] = _(
            "The code %(code)s is already used by %(name)s.", code=other.code, name=other.name
        )
    if not name:
        problems["name"] = _("This field is required.")
    elif len(name) > 200:
        problems["name"] = _("At most %(max)d characters.", max=200)
    if data.unit not in UNITS:
        problems["unit"] = _("Not a valid choice.")
    if data.category_id is not None and not _exists(ItemCategory, data.category_id):
        problems["category_id"] = _("Not a valid choice.")
    if barcode:
        if len(barcode) > 60 or not BARCODE.match(barcode):
            problems["barcode"] = _("A barcode has letters, digits, - and . only (at most 60).")
        elif (other := _other(Item, Item.barcode, barcode, item)) is not None:
            problems["barcode"] = _(
                "The barcode %(barcode)s is already used by %(name)s.",
                barcode=barcode,
                name=other.name,
            )
    for field in ("reorder_point", "reorder_qty"):
        if message := decimal_problem(getattr(data, field), 3, MAX_QTY):
            problems[field] = message
    if message := decimal_problem(data.standard_price, 2, MAX_MONEY):
        problems["standard_price"] = message
    if item is not None and item.is_stock and not data.is_stock:
        qty, _value = stock_totals([item.id]).get(item.id, (Decimal(0), Decimal(0)))
        if qty != 0:
            problems["is_stock"] = _(
                "%(item)s has %(qty)s on hand: issue or count it out before making it a "
                "non-stock item.",
                item=item.name,
                qty=qty_text(qty),
            )
    return problems


def _other(model: type, column: sa.ColumnElement, value: str, row: object | None) -> object | None:
    """Another row of the workspace with the same value, compared regardless of case."""
    stmt = sa.select(model).where(sa.func.lower(column) == value.lower())
    if row is not None and getattr(row, "id", None) is not None:
        stmt = stmt.where(model.id != row.id)  # type: ignore[attr-defined]
    return db.session.scalars(stmt.limit(1)).first()


def _exists(model: type, ident: int) -> bool:
    """A row of the current workspace (a query, never the identity map)."""
    return db.session.scalar(sa.select(model.id).where(model.id == ident)) is not None  # type: ignore[attr-defined]


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field)


def _flush(field: str) -> None:
    """Flush in a savepoint: a concurrent insert of the same code is a refusal, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        raise DomainError(_("This code is already used."), field) from None


def save_item(item: Item | None, data: ItemInput) -> Item:
    """Create an item (`item=None`) or change one; DomainError(field) when a rule refuses."""
    _refuse(item_problems(data, item))
    if item is None:
        item = Item()
        db.session.add(item)
    item.code, item.name = data.code.strip(), data.name.strip()
    item.unit, item.category_id = data.unit, data.category_id
    item.barcode = data.barcode.strip() or None
    item.reorder_point, item.reorder_qty = data.reorder_point, data.reorder_qty
    item.standard_price = data.standard_price
    item.is_stock, item.active = data.is_stock, data.active
    _flush("code")
    return item


def item_query(
    q: str = "", category_id: int | None = None, kind: str | None = None, status: str = "active"
) -> sa.Select:
    """Items matching a search (code, name, barcode) and the filters."""
    stmt = sa.select(Item)
    q = q.strip()
    if q:
        stmt = stmt.where(sa.or_(*contains([Item.code, Item.name, Item.barcode], q)))
    if category_id is not None:
        stmt = stmt.where(Item.category_id == category_id)
    if kind == "stock":
        stmt = stmt.where(Item.is_stock.is_(True))
    elif kind == "non_stock":
        stmt = stmt.where(Item.is_stock.is_(False))
    return by_active(stmt, Item.active, status)


def stock_totals(item_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """{item id: (on hand, stock value)} over every location, summed in Python (SQLite keeps
    quantities as exact text and would sum them as floats)."""
    out: dict[int, tuple[Decimal, Decimal]] = {}
    if not item_ids:
        return out
    rows = db.session.execute(
        sa.select(StockBalance.item_id, StockBalance.qty, StockBalance.value).where(
            StockBalance.item_id.in_(set(item_ids))
        )
    )
    for item_id, qty, value in rows:
        old_qty, old_value = out.get(item_id, (Decimal(0), Decimal(0)))
        out[item_id] = (old_qty + qty, old_value + value)
    return out


def average_cost(qty: Decimal, value: Decimal) -> Decimal | None:
    """The moving-average unit cost of what is on hand (4 decimals), None when nothing is."""
    if qty <= 0:
        return None
    return (value / qty).quantize(COST, ROUND_HALF_UP)


def qty_text(value: Decimal) -> str:
    """480.000 -> "480", 2.500 -> "2.5"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def balances_of(item_id: int) -> list[StockBalance]:
    """The item's non-zero balances with their locations and warehouses, by location code."""
    return list(
        db.session.scalars(
            sa.select(StockBalance)
            .join(Location, Location.id == StockBalance.location_id)
            .join(Warehouse, Warehouse.id == Location.warehouse_id)
            .where(StockBalance.item_id == item_id, StockBalance.qty != Decimal(0))
            .order_by(Warehouse.code, Location.code)
        )
    )


# --- categories -----------------------------------------------------------------------------------


def save_category(category: ItemCategory | None, name: str) -> ItemCategory:
    """Add a category or rename one; names are unique in the workspace."""
    name = name.strip()
    if not name:
        raise DomainError(_("This field is required."), "name")
    if len(name) > 120:
        raise DomainError(_("At most %(max)d characters.", max=120), "name")
    if _other(ItemCategory, ItemCategory.name, name, category) is not None:
        raise DomainError(_("There is a category named %(name)s already.", name=name), "name")
    if category is None:
        category = ItemCategory()
        db.session.add(category)
    category.name = name
    _flush("name")
    return category


# --- warehouses and locations ---------------------------------------------------------------------


def save_warehouse(warehouse: Warehouse | None, *, code: str, name: str, active: bool) -> Warehouse:
    """Create a warehouse with its default location, or change one."""
    code, name = code.strip(), name.strip()
    if message := _code_problem(code, 40):
        raise DomainError(message, "code")
    if (other := _other(Warehouse, Warehouse.code, code, warehouse)) is not None:
        raise DomainError(
            _("The code %(code)s is already used by %(name)s.", code=other.code, name=other.name),
            "code",
        )
    if not name or len(name) > 120:
        raise DomainError(_("Give a name of at most 120 characters."), "name")
    if warehouse is not None and warehouse.active and not active:
        on_hand = _on_hand_at([loc.id for loc in warehouse.locations])
        if on_hand:
            raise DomainError(
                _("Stock is still kept in this warehouse: move it out before closing it."),
                "active",
            )
    created = warehouse is None
    if warehouse is None:
        warehouse = Warehouse()
        db.session.add(warehouse)
    warehouse.code, warehouse.name, warehouse.active = code, name, active
    _flush("code")
    if created:
        db.session.add(
            Location(warehouse_id=warehouse.id, code=DEFAULT_LOCATION, name=_("Main location"))
        )
        db.session.flush()
        db.session.expire(warehouse, ["locations"])
    return warehouse


def _on_hand_at(location_ids: list[int]) -> bool:
    if not location_ids:
        return False
    qtys = db.session.scalars(
        sa.select(StockBalance.qty).where(StockBalance.location_id.in_(location_ids))
    )
    return any(q != 0 for q in qtys)


def save_location(
    location: Location | None, warehouse: Warehouse, *, code: str, name: str, active: bool
) -> Location:
    """Add a location to a warehouse or change one; a warehouse keeps one active location."""
    code, name = code.strip(), name.strip()
    if message := _code_problem(code, 40):
        raise DomainError(message, "code")
    stmt = sa.select(Location.id).where(
        Location.warehouse_id == warehouse.id, sa.func.lower(Location.code) == code.lower()
    )
    if location is not None:
        stmt = stmt.where(Location.id != location.id)
    if db.session.scalar(stmt) is not None:
        raise DomainError(_("This warehouse has a location %(code)s already.", code=code), "code")
    if not name or len(name) > 120:
        raise DomainError(_("Give a name of at most 120 characters."), "name")
    if location is not None and location.active and not active:
        if _on_hand_at([location.id]):
            raise DomainError(
                _("Stock is still kept here: move it out before closing the location."), "active"
            )
        others = [loc for loc in warehouse.locations if loc.active and loc.id != location.id]
        if warehouse.active and not others:
            raise DomainError(_("A warehouse needs at least one active location."), "active")
    if location is None:
        location = Location(warehouse_id=warehouse.id)
        db.session.add(location)
    location.code, location.name, location.active = code, name, active
    _flush("code")
    db.session.expire(warehouse, ["locations"])
    return location


def warehouse_query(q: str = "", status: str = "active") -> sa.Select:
    """Warehouses matching a search (code, name) and the status filter."""
    stmt = sa.select(Warehouse)
    q = q.strip()
    if q:
        stmt = stmt.where(sa.or_(*contains([Warehouse.code, Warehouse.name], q)))
    return by_active(stmt, Warehouse.active, status)
