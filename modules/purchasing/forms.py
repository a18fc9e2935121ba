"""Forms of the purchase request (lines as a FieldList), the order actions and the asset number.

Quantities have at most three decimals and prices two; both are Decimal, never float. Item and
supplier choices are filled by the view from the current workspace, so another workspace's id
is "not a valid choice" (422) before any service runs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from modules.purchasing.services import CENT, MAX_MONEY, MAX_QTY, QTY, fmt_qty, places_ok
from modules.purchasing.services.requests import MAX_LINES, LineInput, line_amount
from suite.requests.forms import MoneyField


def int_or_none(value: Any) -> int | None:
    """Select values: "" is no choice; anything else must be an integer id."""
    if value in (None, ""):
        return None
    return int(value)


class QtyField(MoneyField):
    """Typed like money (`1,200`, ` 480 `), at most three decimals; shown without trailing
    zeros (`500`, not `500.000`)."""

    def _value(self) -> str:
        if self.raw_data is None and isinstance(self.data, Decimal):
            return fmt_qty(self.data)
        return super()._value()


class RequestLineForm(Form):
    item_id = SelectField(_l("Item"), coerce=int_or_none)
    supplier_id = SelectField(_l("Supplier"), coerce=int_or_none)
    qty = QtyField(
        _l("Quantity"),
        places=3,
        validators=[InputRequired(message=_l("Enter a quantity."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    unit_price = MoneyField(
        _l("Unit price"),
        places=2,
        validators=[InputRequired(message=_l("Enter a price."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    description = StringField(_l("Note"), validators=[Optional(), Length(max=300)])

    def validate_item_id(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError(_l("Choose an item."))

    def validate_qty(self, field: QtyField) -> None:
        value = field.data
        if value is None:
            return
        if not places_ok(value, QTY):
            raise ValidationError(_l("At most three decimal places."))
        if value <= 0:
            raise ValidationError(_l("The quantity must be more than zero."))
        if value > MAX_QTY:
            raise ValidationError(_l("The quantity is too large."))

    def validate_unit_price(self, field: MoneyField) -> None:
        value = field.data
        if value is None:
            return
        if not places_ok(value, CENT):
            raise ValidationError(_l("At most two decimal places."))
        if value < 0:
            raise ValidationError(_l("The price cannot be negative."))
        if value > MAX_MONEY:
            raise ValidationError(_l("The amount is too large."))


class PurchaseRequestForm(FlaskForm):
    lines = FieldList(FormField(RequestLineForm), min_entries=1, max_entries=MAX_LINES)
    project = StringField(_l("Project"), validators=[Optional(), Length(max=120)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=5000)])
    is_asset = BooleanField(_l("Non-stock purchase (fixed asset)"))

    def set_choices(self, items: list[tuple[int, str]], suppliers: list[tuple[int, str]]) -> None:
        """Item and supplier choices of the current workspace, on every line."""
        for entry in self.lines:
            entry.form.item_id.choices = [("", _l("Choose an item")), *items]
            entry.form.supplier_id.choices = [("", _l("Choose a supplier")), *suppliers]

    def line_inputs(self) -> list[LineInput]:
        return [
            LineInput(
                item_id=entry.form.item_id.data,
                supplier_id=entry.form.supplier_id.data,
                qty=entry.form.qty.data,
                unit_price=entry.form.unit_price.data,
                description=entry.form.description.data or "",
            )
            for entry in self.lines
        ]

    def amounts(self) -> list[Decimal | None]:
        """Each line's amount where qty and price are valid numbers (the live preview)."""
        out: list[Decimal | None] = []
        for entry in self.lines:
            f = entry.form
            ok = not f.qty.errors and not f.unit_price.errors
            qty, price = f.qty.data, f.unit_price.data
            if ok and qty is not None and price is not None and qty > 0 and price >= 0:
                out.append(line_amount(qty, price))
            else:
                out.append(None)
        return out


class ConfirmOrderForm(FlaskForm):
    supplier_reference = StringField(
        _l("Supplier's reference"), validators=[Optional(), Length(max=80)]
    )


class AssetNumberForm(FlaskForm):
    asset_number = StringField(
        _l("Asset number"),
        validators=[InputRequired(message=_l("Enter the asset number.")), Length(max=60)],
    )
