"""The general request document."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite.auth.models import Department, Membership
from suite.db import Money, WorkspaceScoped, db, utcnow

DRAFT, SUBMITTED, APPROVED, REJECTED = "draft", "submitted", "approved", "rejected"


class GeneralRequest(WorkspaceScoped, db.Model):
    """Lifecycle: draft -> submitted -> approved | rejected (a rejected one can be resubmitted)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[Decimal | None] = mapped_column(Money())
    urgency: Mapped[str] = mapped_column(sa.String(20), default="normal")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("department.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(20), default=DRAFT)
    instance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]

    requester: Mapped[Membership] = relationship(foreign_keys=[requester_id])
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "number"),
        sa.Index("ix_general_request_requester_id_id", "requester_id", "id"),
    )
