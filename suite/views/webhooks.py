"""Admin: group robots (DingTalk / WeCom / Feishu) that receive process events via the outbox."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, Optional, ValidationError

from suite.auth.forms import MultiCheckboxField
from suite.auth.permissions import require
from suite.db import db
from suite.notify.models import WebhookEndpoint
from suite.tenancy import get_or_404
from suite.views import bp
from suite.web import redirect_to, render_form

KINDS = {"dingtalk": _l("DingTalk robot"), "wecom": _l("WeCom robot"), "feishu": _l("Feishu robot")}
EVENT_LABELS = {
    "*": _l("Every event"),
    "task_assigned": _l("Approval needed"),
    "returned_to_you": _l("Sent back"),
    "cc": _l("CC"),
    "urge": _l("Urged"),
    "remind": _l("Reminder"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
}


class WebhookForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KINDS.items()])
    url = StringField(
        _l("Webhook address"), validators=[DataRequired(), URL(require_tld=True), Length(max=500)]
    )
    secret = StringField(_l("Signing secret"), validators=[Optional(), Length(max=200)])
    events = MultiCheckboxField(
        _l("Events"), choices=[SelectChoice(k, v) for k, v in EVENT_LABELS.items()]
    )

    def validate_url(self, field: StringField) -> None:
        if not field.data.lower().startswith("https://"):
            raise ValidationError(_("The address must start with https://"))

    def validate_events(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_("Choose at least one event."))


def _page(form: WebhookForm) -> Response:
    rows = db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id).limit(200))
    return render_form(
        "admin/webhook_list.html",
        "admin/_webhook_form.html",
        "webhook-form",
        form,
        endpoints=list(rows),
        kinds=KINDS,
        event_labels=EVENT_LABELS,
    )


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@require("suite.workspace.manage")
def webhook_list() -> Response:
    form = WebhookForm()
    if form.validate_on_submit():
        events = ["*"] if "*" in form.events.data else list(form.events.data)
        db.session.add(
            WebhookEndpoint(
                kind=form.kind.data,
                url=form.url.data.strip(),
                secret=(form.secret.data or "").strip() or None,
                events=events,
            )
        )
        db.session.commit()
        return redirect_to("suite.webhook_list", _("The robot is added."))
    return _page(form)


@bp.route("/admin/webhooks/<int:webhook_endpoint_id>/toggle", methods=["POST"])
@require("suite.workspace.manage")
def webhook_toggle(webhook_endpoint_id: int) -> Response:
    endpoint = get_or_404(WebhookEndpoint, webhook_endpoint_id)
    endpoint.active = not endpoint.active
    db.session.commit()
    return redirect_to("suite.webhook_list", _("Saved."))


@bp.route("/admin/webhooks/<int:webhook_endpoint_id>/delete", methods=["POST"])
@require("suite.workspace.manage")
def webhook_delete(webhook_endpoint_id: int) -> Response:
    db.session.delete(get_or_404(WebhookEndpoint, webhook_endpoint_id))
    db.session.commit()
    return redirect_to("suite.webhook_list", _("The robot is removed."))
