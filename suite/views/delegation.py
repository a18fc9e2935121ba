"""Out of office (代理审批): while away, my new tasks go to a colleague, marked "on behalf of"."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateTimeLocalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from suite.auth.forms import member_choices
from suite.db import db, utcnow
from suite.tenancy import get_or_404
from suite.views import bp
from suite.web import redirect_to, render_form
from suite.workflow.models import Delegation


class DelegationForm(FlaskForm):
    delegate_id = SelectField(_l("Colleague who approves for me"), coerce=int)
    starts_at = DateTimeLocalField(_l("From"), validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Until"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def validate_ends_at(self, field: DateTimeLocalField) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_("The end must be after the start."))


def _utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=ZoneInfo(g.workspace.timezone)).astimezone(dt.UTC)


def _mine() -> list[Delegation]:
    return list(
        db.session.scalars(
            sa.select(Delegation)
            .where(Delegation.member_id == g.membership.id, Delegation.ends_at > utcnow())
            .order_by(Delegation.starts_at)
        )
    )


@bp.route("/account/out-of-office", methods=["GET", "POST"])
@login_required
def delegation_list() -> Response:
    form = DelegationForm()
    form.delegate_id.choices = member_choices(exclude=g.membership.id, blank=False)
    if request.method == "POST" and form.validate_on_submit():
        db.session.add(
            Delegation(
                member_id=g.membership.id,
                delegate_id=form.delegate_id.data,
                starts_at=_utc(form.starts_at.data),
                ends_at=_utc(form.ends_at.data),
                note=form.note.data or None,
            )
        )
        db.session.commit()
        return redirect_to("suite.delegation_list", _("Saved."))
    return render_form(
        "account/delegation_list.html",
        "account/_delegation_form.html",
        "delegation-form",
        form,
        windows=_mine(),
    )


@bp.route("/account/out-of-office/<int:delegation_id>/end", methods=["POST"])
@login_required
def delegation_end(delegation_id: int) -> Response:
    window = get_or_404(Delegation, delegation_id)
    if window.member_id != g.membership.id:
        from flask import abort

        abort(404)
    window.ends_at = max(window.starts_at, utcnow())
    db.session.commit()
    return redirect_to("suite.delegation_list", _("Ended."))
