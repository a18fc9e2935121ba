"""Forms of the checklist designer and the checkpoints (Flask-WTF, CSRF checked)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ChecklistTemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class CheckpointForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    code = StringField(
        _l("Short code"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off"},
    )
    site = StringField(_l("Site"), validators=[Optional(), Length(max=120)])
    area = StringField(_l("Area"), validators=[Optional(), Length(max=120)])
    template_id = SelectField(_l("Checklist"), coerce=int, validate_choice=False)
    owner_id = SelectField(_l("Area owner"), coerce=int, validate_choice=False)
    anonymous_reports = BooleanField(_l("Visitors may report problems without an account"))
