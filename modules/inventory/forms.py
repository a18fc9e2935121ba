"""Forms for items, categories, warehouses and locations; the rules are in `master.py`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from modules.inventory import master
from modules.inventory.models import ItemCategory
from suite.db import db
from suite.requests.forms import MoneyField


def _optional_int(value: object) -> int | None:
    return int(value) if value not in (None, "", "None") else None  # type: ignore[call-overload]


def _number(places: int, maximum: Decimal) -> Any:
    def validator(form: FlaskForm, field: Any) -> None:
        if field.data is None:
            return
        message = master.decimal_problem(field.data, places, maximum)
        if message:
            raise ValidationError(message)

    return validator


def category_choices() -> list[tuple[int | None, str]]:
    names = db.session.execute(sa.select(ItemCategory.id, ItemCategory.name).order_by("name"))
    return [(None, "—"), *((r.id, r.name) for r in names)]


class ItemForm(FlaskForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(), Length(max=40)], render_kw={"autocomplete": "off"}
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    unit = SelectField(
        _l("Unit"), choices=[SelectChoice(k, v) for k, v in master.UNIT_LABELS.items()]
    )
    category_id = SelectField(_l("Category"), coerce=_optional_int, validate_choice=True)
    barcode = StringField(
        _l("Barcode"),
        validators=[Optional(), Length(max=60)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    reorder_point = MoneyField(
        _l("Reorder point"),
        places=3,
        validators=[Optional(), _number(3, master.MAX_QTY)],
        render_kw={"inputmode": "decimal"},
    )
    reorder_qty = MoneyField(
        _l("Reorder quantity"),
        places=3,
        validators=[Optional(), _number(3, master.MAX_QTY)],
        render_kw={"inputmode": "decimal"},
    )
    standard_price = MoneyField(
        _l("Standard price"),
        places=2,
        validators=[Optional(), _number(2, master.MAX_MONEY)],
        render_kw={"inputmode": "decimal"},
    )
    is_stock = BooleanField(_l("Kept in stock"), default=True)
    active = BooleanField(_l("Active"), default=True)

    def fill_choices(self) -> None:
        self.category_id.choices = category_choices()

    def values(self) -> master.ItemInput:
        return master.ItemInput(
            code=self.code.data or "",
            name=self.name.data or "",
            unit=self.unit.data or "",
            category_id=self.category_id.data,
            barcode=self.barcode.data or "",
            reorder_point=self.reorder_point.data or Decimal(0),
            reorder_qty=self.reorder_qty.data or Decimal(0),
            standard_price=self.standard_price.data or Decimal(0),
            is_stock=bool(self.is_stock.data),
            active=bool(self.active.data),
        )


class CategoryForm(FlaskForm):
    name = StringField(_l("Category name"), validators=[DataRequired(), Length(max=120)])


class WarehouseForm(FlaskForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(), Length(max=40)], render_kw={"autocomplete": "off"}
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    active = BooleanField(_l("Active"), default=True)


class LocationForm(FlaskForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(), Length(max=40)], render_kw={"autocomplete": "off"}
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    active = BooleanField(_l("Active"), default=True)
