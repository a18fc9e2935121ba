"""The general request form: money as Decimal with at most two decimal places, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
CENT = Decimal("0.01")


class MoneyField(DecimalField):
    """A DecimalField that accepts what people type: `4,800`, `¥4800`, ` 4 800.50 `."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].replace(",", "").replace("，", "").strip(" ¥￥\u3000")]
            valuelist[0] = valuelist[0].replace(" ", "")
        super().process_formdata(valuelist)


class GeneralRequestForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    amount = MoneyField(
        _l("Amount"),
        places=2,
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    urgency = SelectField(
        _l("Urgency"),
        choices=[
            SelectChoice("low", _l("Low")),
            SelectChoice("normal", _l("Normal")),
            SelectChoice("high", _l("High")),
        ],
        default="normal",
    )
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=5000)])

    def validate_amount(self, field: MoneyField) -> None:
        value = field.data
        if value is None:
            return
        try:
            if not value.is_finite():
                raise InvalidOperation
            exact = value == value.quantize(CENT)
        except InvalidOperation:  # NaN, Infinity, absurdly long
            raise ValidationError(_l("Not a valid amount.")) from None
        if not exact:
            raise ValidationError(_l("At most two decimal places."))
        if value < 0:
            raise ValidationError(_l("The amount cannot be negative."))
        if value > MAX_AMOUNT:
            raise ValidationError(_l("The amount is too large."))
