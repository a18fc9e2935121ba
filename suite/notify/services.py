"""In-app notifications of a member and the admins' retry of undelivered messages."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

import suite.db
from suite.db import db
from suite.errors import DomainError
from suite.notify.models import Notification, OutboxMessage


def unread_count(member_id: int) -> int:
    """Unread notifications of a member (index `recipient_id, read_at, id`)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == member_id, Notification.read_at.is_(None))
    )


def mark_read(notification: Notification) -> None:
    """Mark one notification read (once: the first reading time stays)."""
    if notification.read_at is None:
        notification.read_at = suite.db.utcnow()


def mark_all_read(member_id: int) -> int:
    """Mark every unread notification of a member read; returns how many changed."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.recipient_id == member_id, Notification.read_at.is_(None))
        .values(read_at=suite.db.utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def undelivered() -> sa.Select:
    """Messages an admin should look at: dead ones, and pending ones that failed before."""
    return sa.select(OutboxMessage).where(
        sa.or_(
            OutboxMessage.status == "dead",
            sa.and_(OutboxMessage.status == "pending", OutboxMessage.last_error.is_not(None)),
        )
    )


def retry(message: OutboxMessage) -> None:
    """Try a message again now, with a fresh set of attempts (the last error stays visible)."""
    if message.status == "sent":
        raise DomainError(_("This message was delivered already."))
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = suite.db.utcnow()
