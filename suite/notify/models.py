"""Outgoing messages (the outbox), in-app notifications and IM robot webhooks (ARCHITECTURE 4.4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from suite.db import WorkspaceScoped, db, utcnow

CHANNELS = ("in_app", "email", "webhook")
STATUSES = ("pending", "sent", "dead")
WEBHOOK_KINDS = ("dingtalk", "wecom", "feishu")


class OutboxMessage(WorkspaceScoped, db.Model):
    """One message to deliver once: written in the caller's transaction, sent by `drain()`.

    Not audited: high volume, and the row itself is the record of what was sent when.
    """

    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # in_app | email | webhook
    # The member told (in_app, email); NULL for webhooks, which go to a group robot.
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="CASCADE"), index=True
    )
    # Webhooks: the endpoint whose kind and signing secret apply at delivery time.
    endpoint_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("webhook_endpoint.id", ondelete="SET NULL"), index=True
    )
    address: Mapped[str | None] = mapped_column(sa.String(500))  # e-mail or webhook URL
    event: Mapped[str] = mapped_column(sa.String(80))  # task_assigned, urge, approved, ...
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str | None] = mapped_column(sa.String(500))  # relative URL
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    __table_args__ = (
        sa.Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
        sa.CheckConstraint("channel IN ('in_app', 'email', 'webhook')", name="channel"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name="status"),
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel} {self.event} {self.status}>"


class Notification(WorkspaceScoped, db.Model):
    """An in-app notification shown under the bell; created when its outbox row is delivered."""

    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id", ondelete="CASCADE"))
    # The outbox row it came from: unique, so a message can never show twice.
    outbox_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_message.id", ondelete="SET NULL"), unique=True
    )
    event: Mapped[str] = mapped_column(sa.String(80))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]

    __table_args__ = (
        sa.Index("ix_notification_recipient_read_id", "recipient_id", "read_at", "id"),
    )


class WebhookEndpoint(WorkspaceScoped, db.Model):
    """A group robot (DingTalk / WeCom / Feishu) that receives the events it subscribes to."""

    __audit_redact__ = frozenset({"secret"})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # dingtalk | wecom | feishu
    url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str | None] = mapped_column(sa.String(200))  # DingTalk / Feishu signing
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # "*" = every event
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (sa.CheckConstraint("kind IN ('dingtalk', 'wecom', 'feishu')", name="kind"),)

    def subscribes(self, event: str) -> bool:
        return "*" in (self.events or ()) or event in (self.events or ())
