"""A member's notifications (list, bell), and the admins' page of undelivered messages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from suite.auth.models import Membership, User
from suite.auth.permissions import require
from suite.db import db
from suite.errors import DomainError
from suite.notify import services
from suite.notify.models import Notification, OutboxMessage, WebhookEndpoint
from suite.tenancy import get_or_404
from suite.views import bp
from suite.views.pagination import newest_first
from suite.web import error_response, is_htmx, redirect_to, render_page, safe_next, wants_fragment

READ_EVENT = "suite:notifications-read"


def _notification_rows() -> dict[str, Any]:
    stmt = sa.select(Notification).where(Notification.recipient_id == g.membership.id)
    items, next_before = newest_first(stmt, Notification.id)
    return {"items": items, "next_before": next_before}


@bp.route("/notifications")
@login_required
def notification_list() -> Response:
    return render_page(
        "notify/notification_list.html",
        "notify/_notification_rows.html",
        "notification-rows",
        **_notification_rows(),
    )


@bp.route("/notifications/<int:notification_id>")
@login_required
def notification_open(notification_id: int) -> Response:
    """Opening a notification marks it read and goes to the item it is about."""
    notification = get_or_404(Notification, notification_id)
    if notification.recipient_id != g.membership.id:
        abort(404)
    services.mark_read(notification)
    db.session.commit()
    return redirect(safe_next(notification.link, url_for("suite.notification_list")), 303)


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def notification_read_all() -> Response:
    services.mark_all_read(g.membership.id)
    db.session.commit()
    if not wants_fragment("notification-rows"):
        return redirect_to("suite.notification_list", _("All notifications are marked as read."))
    resp = render_page(
        "notify/notification_list.html",
        "notify/_notification_rows.html",
        "notification-rows",
        **_notification_rows(),
    )
    resp.headers["HX-Trigger"] = READ_EVENT
    return resp


@bp.route("/notifications/bell")
@login_required
def notification_bell() -> Response:
    """The top bar's bell with the unread count; polled by htmx, so only ever a fragment."""
    if not is_htmx():
        return redirect(url_for("suite.notification_list"))
    resp = make_response(
        render_template("notify/_bell.html", unread=services.unread_count(g.membership.id))
    )
    resp.vary.add("HX-Request")
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --- undelivered messages (admins) -------------------------------------------------------------


def _outbox_context(messages: list[OutboxMessage]) -> dict[str, Any]:
    """Who each message was for: member names, and robot kinds with their host only (a robot
    URL carries its access token)."""
    member_ids = {m.recipient_id for m in messages if m.recipient_id is not None}
    members = (
        dict(
            db.session.execute(
                sa.select(Membership.id, User.display_name)
                .join(User, User.id == Membership.user_id)
                .where(Membership.id.in_(member_ids))
            ).all()
        )
        if member_ids
        else {}
    )
    endpoint_ids = {m.endpoint_id for m in messages if m.endpoint_id is not None}
    kinds = (
        dict(
            db.session.execute(
                sa.select(WebhookEndpoint.id, WebhookEndpoint.kind).where(
                    WebhookEndpoint.id.in_(endpoint_ids)
                )
            ).all()
        )
        if endpoint_ids
        else {}
    )
    hosts = {m.id: urlsplit(m.address).netloc for m in messages if m.channel == "webhook"}
    return {"members": members, "kinds": kinds, "hosts": hosts}


@bp.route("/admin/outbox")
@require("suite.outbox.manage")
def outbox_list() -> Response:
    items, next_before = newest_first(services.undelivered(), OutboxMessage.id)
    return render_page(
        "notify/outbox_list.html",
        "notify/_outbox_rows.html",
        "outbox-rows",
        items=items,
        next_before=next_before,
        **_outbox_context(items),
    )


@bp.route("/admin/outbox/retry", methods=["POST"])
@require("suite.outbox.manage")
def outbox_retry() -> Response:
    """Retry one message (`outbox_message_id` in the form): pending, attempts 0, due now."""
    message_id = request.form.get("outbox_message_id", type=int)
    if message_id is None:
        abort(400)
    message = get_or_404(OutboxMessage, message_id)
    try:
        services.retry(message)
    except DomainError as exc:
        db.session.rollback()
        return error_response(409, exc.message)
    db.session.commit()
    target = f"outbox-{message.id}-row"
    if not wants_fragment(target):
        return redirect_to("suite.outbox_list", _("The message will be sent again shortly."))
    return render_page(
        "notify/outbox_list.html",
        "notify/_outbox_row.html",
        target,
        m=message,
        **_outbox_context([message]),
    )
