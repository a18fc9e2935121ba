"""Audit events and daily anchors. Append-only: the app never updates or deletes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from suite.db import WorkspaceScoped, db, utcnow


class AuditEvent(WorkspaceScoped, db.Model):
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL for global rows (user accounts, workspaces themselves).
    workspace_id: Mapped[int | None] = mapped_column(  # type: ignore[assignment]
        sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    entity_type: Mapped[str] = mapped_column(sa.String(80))
    entity_id: Mapped[str] = mapped_column(sa.String(80))
    seq: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(40))  # create / update / delete / commands
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    on_behalf_of_id: Mapped[int | None] = mapped_column(sa.Integer)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    context: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.UniqueConstraint("entity_type", "entity_id", "seq"),
        sa.Index("ix_audit_event_ws_occurred", "workspace_id", "occurred_at"),
    )


class AuditAnchor(WorkspaceScoped, db.Model):
    """One per workspace and day: the hash of that day's chain heads, chained day to day."""

    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date)
    events: Mapped[int]
    heads_hash: Mapped[str] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("workspace_id", "day"),)
