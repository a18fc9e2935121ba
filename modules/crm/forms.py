"""Forms for parties and their contacts; the rules themselves are in `modules.crm.services`."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from modules.crm import services


def _checked(check: Any) -> Any:
    """A WTForms validator from a service rule returning a message or None."""

    def validator(form: FlaskForm, field: Any) -> None:
        message = check((field.data or "").strip())
        if message:
            raise ValidationError(message)

    return validator


class PartyForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    is_supplier = BooleanField(_l("Supplier"))
    is_customer = BooleanField(_l("Customer"))
    phone = StringField(
        _l("Phone"), validators=[Optional(), Length(max=60)], render_kw={"inputmode": "tel"}
    )
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=200), _checked(services.email_problem)],
        render_kw={"inputmode": "email"},
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    tax_id = StringField(_l("Tax ID"), validators=[Optional(), Length(max=40)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=120)])
    bank_account = StringField(
        _l("Bank account"),
        validators=[Optional(), Length(max=60), _checked(services.bank_account_problem)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    payment_terms = SelectField(
        _l("Payment terms"),
        choices=[SelectChoice(k, v) for k, v in services.PAYMENT_TERM_LABELS.items()],
        default="month_end",
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    active = BooleanField(_l("Active"), default=True)

    def validate_is_supplier(self, field: BooleanField) -> None:
        if not (field.data or self.is_customer.data):
            raise ValidationError(_l("Tick supplier, customer or both."))

    def values(self) -> services.PartyInput:
        return services.PartyInput(
            code=self.code.data or "",
            name=self.name.data or "",
            is_supplier=bool(self.is_supplier.data),
            is_customer=bool(self.is_customer.data),
            phone=self.phone.data or "",
            email=self.email.data or "",
            address=self.address.data or "",
            tax_id=self.tax_id.data or "",
            bank_name=self.bank_name.data or "",
            bank_account=self.bank_account.data or "",
            payment_terms=self.payment_terms.data or "",
            notes=self.notes.data or "",
            active=bool(self.active.data),
        )


class ContactForm(FlaskForm):
    """Rendered with `prefix="contact"` so its ids never clash with the page's."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    title = StringField(_l("Job title"), validators=[Optional(), Length(max=120)])
    phone = StringField(
        _l("Phone"), validators=[Optional(), Length(max=60)], render_kw={"inputmode": "tel"}
    )
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=200), _checked(services.email_problem)],
        render_kw={"inputmode": "email"},
    )

    def values(self) -> services.ContactInput:
        return services.ContactInput(
            name=self.name.data or "",
            title=self.title.data or "",
            phone=self.phone.data or "",
            email=self.email.data or "",
        )
