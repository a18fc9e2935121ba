"""Forms for login and the people admin pages; choices come from the current workspace only."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from suite.auth.models import Department, Membership, Role, User
from suite.db import db


def _optional_int(value: object) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    login = StringField(_l("Login or e-mail"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))


def department_choices() -> list[tuple[int | None, str]]:
    from suite.auth.services import department_tree

    return [(None, "—")] + [(d.id, "\u3000" * depth + d.name) for d, depth in department_tree()]


def member_choices(exclude: int | None = None, blank: bool = True) -> list[tuple[int | None, str]]:
    """Active members as `(id, "name (login)")`, by name; `blank` adds a leading "—" choice."""
    rows = db.session.execute(
        sa.select(Membership.id, User.display_name, User.login)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True))
        .order_by(User.display_name)
    ).all()
    people = [(r.id, f"{r.display_name} ({r.login})") for r in rows if r.id != exclude]
    return [(None, "—"), *people] if blank else people


def role_choices() -> list[tuple[int, str]]:
    from suite.templating import role_label

    roles = db.session.scalars(sa.select(Role).order_by(Role.builtin.desc(), Role.code))
    return [(r.id, str(role_label(r))) for r in roles]


class UserForm(FlaskForm):
    login = StringField(
        _l("Login"),
        validators=[
            DataRequired(),
            Length(min=2, max=80),
            Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("Use letters, digits, _ . - only.")),
        ],
    )
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=200)])
    title = StringField(_l("Job title"), validators=[Optional(), Length(max=120)])
    department_id = SelectField(_l("Department"), coerce=_optional_int, validate_choice=True)
    manager_id = SelectField(_l("Manager"), coerce=_optional_int, validate_choice=True)
    role_ids = MultiCheckboxField(_l("Roles"), coerce=int)
    active = BooleanField(_l("Active"), default=True)

    def fill_choices(self, membership_id: int | None = None) -> None:
        self.department_id.choices = department_choices()
        self.manager_id.choices = member_choices(exclude=membership_id)
        self.role_ids.choices = role_choices()


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    parent_id = SelectField(_l("Parent department"), coerce=_optional_int)
    head_id = SelectField(_l("Head"), coerce=_optional_int)
    sort = IntegerField(_l("Sort order"), default=0, validators=[Optional(), NumberRange(0, 9999)])

    def fill_choices(self, dept: Department | None = None) -> None:
        self.parent_id.choices = [
            c for c in department_choices() if dept is None or c[0] != dept.id
        ]
        self.head_id.choices = member_choices()


# Time zones offered first; any IANA zone is accepted.
COMMON_TIMEZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "UTC")


def timezone_choices() -> list[SelectChoice]:
    from zoneinfo import available_timezones

    rest = sorted(available_timezones() - set(COMMON_TIMEZONES))
    return [SelectChoice(z, z) for z in (*COMMON_TIMEZONES, *rest)]


class WorkspaceForm(FlaskForm):
    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=200)])
    timezone = SelectField(_l("Time zone"), choices=timezone_choices)
    locale = SelectField(
        _l("Default language"),
        choices=[SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")],
    )


class RoleForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(
                r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
                message=_l("Use the form module.role, e.g. custom.auditor."),
            ),
        ],
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    permissions = MultiCheckboxField(_l("Permissions"))
