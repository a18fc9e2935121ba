"""Forms of the stock documents: quantities as Decimal with at most three decimals, never float.

Choices (items, locations) come from the current workspace, so another workspace's id or a
made-up one is "not a valid choice" (422) before any service runs.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, FieldList, Form, FormField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, StopValidation, ValidationError

from modules.inventory.models import Item, Location, Warehouse
from modules.inventory.services.lines import MAX_QTY, MILLI
from suite.db import db

QTY_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


def item_choices() -> list[tuple[int, str]]:
    """Active stock items (cached for the request: every line's select shows them)."""
    if "_inventory_items" not in g:
        rows = db.session.execute(
            sa.select(Item.id, Item.code, Item.name)
            .where(Item.active.is_(True), Item.is_stock.is_(True))
            .order_by(Item.code)
        )
        g._inventory_items = [(i, f"{code} {name}") for i, code, name in rows]
    return g._inventory_items


def location_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(Location.id, Warehouse.code, Location.code, Location.name)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(Location.active.is_(True), Warehouse.active.is_(True))
        .order_by(Warehouse.code, Location.code)
    )
    return [(i, f"{wh} / {code} {name}") for i, wh, code, name in rows]


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class IdSelectField(SelectField):
    """A select of row ids from `rows()` with a blank first option.

    Blank -> "please choose"; a made-up or another workspace's id -> "not a valid choice".
    """

    def __init__(
        self, label: Any, rows: Callable[[], list[tuple[int, str]]], blank: Any, **kwargs: Any
    ) -> None:
        kwargs.update(coerce=_int_or_none, choices=lambda: [("", blank), *rows()])
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = -1  # not a number: refused as not a valid choice below

    def pre_validate(self, form: Any) -> None:
        if self.data is None:
            raise StopValidation(_l("Please choose one."))
        if self.data not in {value for value, _label in self.choices[1:]}:
            raise StopValidation(_l("Not a valid choice."))


class QtyField(DecimalField):
    """A quantity: `1,200`, ` 380.5 `; at most three decimals; above zero unless `zero_ok`."""

    def __init__(self, *args: Any, zero_ok: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", dict(QTY_ATTRS))
        super().__init__(*args, **kwargs)
        self.zero_ok = zero_ok

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].replace(",", "").replace("，", "").replace(" ", "").strip()]
            if not valuelist[0]:
                self.data = None  # blank: "Enter a quantity." (or allowed, where optional)
                return
        super().process_formdata(valuelist)

    def pre_validate(self, form: Any) -> None:
        check_qty_value(self.data, zero_ok=self.zero_ok)


def check_qty_value(value: Decimal | None, *, zero_ok: bool = False) -> None:
    """Raise ValidationError unless `value` is a valid quantity (None passes: Optional/required)."""
    if value is None:
        return
    try:
        exact = value.is_finite() and value == value.quantize(MILLI)
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValidationError(_l("At most three decimal places."))
    if value < 0 or (value == 0 and not zero_ok):
        raise ValidationError(_l("The quantity must be more than zero."))
    if value > MAX_QTY:
        raise ValidationError(_l("The quantity is too large."))


def parse_qty(raw: str | None) -> Decimal | None:
    """A typed quantity as Decimal, None when blank; ValidationError when it is not a number."""
    text = (raw or "").replace(",", "").replace("，", "").replace(" ", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_l("Not a valid quantity.")) from None
    return value


class LineForm(Form):
    """One document line: an item and a quantity."""

    item_id = IdSelectField(_l("Item"), item_choices, _l("Choose an item"))
    qty = QtyField(_l("Quantity"))

    def validate_qty(self, field: QtyField) -> None:
        if field.data is None and not field.errors:
            raise ValidationError(_l("Enter a quantity."))


class MaterialIssueForm(FlaskForm):
    location_id = IdSelectField(_l("Issue from"), location_choices, _l("Choose a location"))
    purpose = StringField(_l("Purpose"), validators=[Optional(), Length(max=300)])
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=100)


class TransferForm(FlaskForm):
    from_location_id = IdSelectField(_l("From location"), location_choices, _l("Choose a location"))
    to_location_id = IdSelectField(_l("To location"), location_choices, _l("Choose a location"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=100)


class StocktakeForm(FlaskForm):
    location_id = IdSelectField(_l("Location to count"), location_choices, _l("Choose a location"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class StocktakeItemForm(FlaskForm):
    item_id = IdSelectField(_l("Item"), item_choices, _l("Choose an item"))


class ReconForm(FlaskForm):
    """The reconciliation's period (workspace dates) and grouping; a GET form, no CSRF."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From date"), validators=[Optional()])
    date_to = DateField(_l("To date"), validators=[Optional()])
    by = SelectField(
        _l("Show rows"),
        choices=[
            SelectChoice("item", _l("Per item")),
            SelectChoice("location", _l("Per item and location")),
        ],
        default="item",
    )
