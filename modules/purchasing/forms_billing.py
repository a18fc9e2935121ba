"""Forms for supplier invoices, paying payment requests and the purchasing settings.

The invoice form has one quantity and one price field per order line, built for the order at hand
(`invoice_form(order, ...)`); field names are `qty_<order line id>` / `price_<order line id>`, so
a three-way-match problem is shown next to the field of the line it is about.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from modules.purchasing.models import PurchaseOrder
from modules.purchasing.services import CENT, MAX_MONEY, MAX_QTY, QTY, fmt_qty
from modules.purchasing.services.invoices import InvoiceLineInput, price_field, qty_field
from modules.purchasing.services.payments import METHODS
from suite.requests.forms import MoneyField


class QtyField(MoneyField):
    """A decimal typed the way people do (`1,000`, ` 480 `); at most three decimal places."""


def _decimal_check(quantum: Decimal, maximum: Decimal, *, money: bool, negative: Any) -> Any:
    def check(form: FlaskForm, field: Any) -> None:
        value = field.data
        if value is None:
            return
        try:
            if not value.is_finite():
                raise InvalidOperation
            exact = value == value.quantize(quantum)
        except InvalidOperation:
            raise ValidationError(_l("Not a valid number.")) from None
        if not exact:
            raise ValidationError(
                _l("At most two decimal places.") if money else _l("At most three decimal places.")
            )
        if value < 0:
            raise ValidationError(negative)
        if value > maximum:
            raise ValidationError(_l("The number is too large."))

    return check


money_check = _decimal_check(
    CENT, MAX_MONEY, money=True, negative=_l("The price cannot be negative.")
)
qty_check = _decimal_check(
    QTY, MAX_QTY, money=False, negative=_l("The quantity cannot be negative.")
)
tolerance_check = _decimal_check(
    CENT, MAX_MONEY, money=True, negative=_l("The tolerance cannot be negative.")
)


class InvoiceFormBase(FlaskForm):
    invoice_no = StringField(
        _l("Supplier's invoice number"),
        validators=[DataRequired(), Length(max=80)],
        render_kw={"autocomplete": "off"},
    )
    invoice_date = DateField(_l("Invoice date"), validators=[Optional()])

    order: PurchaseOrder

    def line_fields(self) -> list[tuple[Any, Any, Any]]:
        """(order line, qty field, price field) in the order's line order."""
        return [
            (line, self[qty_field(line.id)], self[price_field(line.id)])
            for line in self.order.lines
        ]

    def line_inputs(self) -> list[InvoiceLineInput]:
        return [
            InvoiceLineInput(line.id, qty.data or Decimal(0), price.data or Decimal(0))
            for line, qty, price in self.line_fields()
        ]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for _line, qty, price in self.line_fields():
            if qty.data and not qty.errors and price.data is None and not price.errors:
                price.errors = [*price.errors, _l("Enter the unit price.")]
                ok = False
        return ok

    def add_problems(self, problems: dict[str, str]) -> None:
        """Three-way-match reasons next to the fields they belong to."""
        for name, message in problems.items():
            target = self._fields.get(name) or self.invoice_no
            target.errors = [*target.errors, message]


def invoice_form(
    order: PurchaseOrder, defaults: dict[int, tuple[Decimal, Decimal]] | None = None, **kw: Any
) -> InvoiceFormBase:
    """An invoice form with a quantity and a price field per line of `order`."""

    class InvoiceForm(InvoiceFormBase):
        pass

    for line in order.lines:
        qty, price = (defaults or {}).get(line.id, (None, None))
        setattr(
            InvoiceForm,
            qty_field(line.id),
            QtyField(
                _l("Quantity"),
                places=None,
                default=None if qty is None else Decimal(fmt_qty(qty)),
                validators=[Optional(), qty_check],
                render_kw={"inputmode": "decimal", "autocomplete": "off"},
            ),
        )
        setattr(
            InvoiceForm,
            price_field(line.id),
            MoneyField(
                _l("Unit price"),
                places=2,
                default=price,
                validators=[Optional(), money_check],
                render_kw={"inputmode": "decimal", "autocomplete": "off"},
            ),
        )
    form = InvoiceForm(**kw)
    form.order = order
    return form


class PayForm(FlaskForm):
    method = RadioField(
        _l("Paid by"),
        choices=[SelectChoice(code, label) for code, label in METHODS.items()],
        validators=[InputRequired(message=_l("Choose how it was paid."))],
    )


class PurchasingSettingsForm(FlaskForm):
    price_tolerance = MoneyField(
        _l("Price tolerance (yuan per unit)"),
        places=2,
        validators=[InputRequired(), tolerance_check],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    over_receipt_percent = DecimalField(
        _l("Over-receipt allowed (percent)"),
        places=2,
        validators=[InputRequired()],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )

    def validate_over_receipt_percent(self, field: DecimalField) -> None:
        value = field.data
        try:
            exact = value is not None and value.is_finite() and value == value.quantize(CENT)
        except InvalidOperation:
            exact = False
        if not exact:
            raise ValidationError(_l("Enter a number with at most two decimal places."))
        if not Decimal(0) <= value <= Decimal(100):
            raise ValidationError(_l("Enter a percentage from 0 to 100."))
