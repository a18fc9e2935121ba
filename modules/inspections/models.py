"""Inspections: corrective actions (整改), scheduled rounds, findings reported at a checkpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite.auth.models import Membership
from suite.checklists.models import ChecklistRun, Checkpoint
from suite.db import WorkspaceScoped, db, utcnow

# Corrective action lifecycle: open (the area owner fixes) -> fixed (the inspector verifies)
# -> closed; a fix sent back goes to open again.
OPEN, FIXED, CLOSED = "open", "fixed", "closed"
# Rounds: due (inside its window or not yet started) -> done (a run was submitted in the window)
# or missed (the window passed without one).
DUE, DONE, MISSED = "due", "done", "missed"
FREQUENCIES = ("daily", "weekly", "weekdays")
# Findings reported anonymously at a checkpoint: new -> converted (a corrective action) | dismissed
NEW, CONVERTED, DISMISSED = "new", "converted", "dismissed"


class CorrectiveAction(WorkspaceScoped, db.Model):
    """整改: a failed item (or a reported finding) the area owner fixes, the inspector verifies."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    checkpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("checkpoint.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("checklist_run.id", ondelete="SET NULL")
    )
    item_key: Mapped[str] = mapped_column(sa.String(40), default="")
    item_label: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    photo_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)  # the finding's photos
    assignee_id: Mapped[int | None] = mapped_column(  # the area owner
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    verifier_id: Mapped[int | None] = mapped_column(  # the inspector who found it
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(20), default=OPEN)
    due_at: Mapped[dt.datetime | None]
    fix_note: Mapped[str] = mapped_column(sa.Text, default="")
    fix_photo_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    fixed_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    instance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    checkpoint: Mapped[Checkpoint] = relationship(foreign_keys=[checkpoint_id])
    run: Mapped[ChecklistRun | None] = relationship(foreign_keys=[run_id])
    assignee: Mapped[Membership | None] = relationship(foreign_keys=[assignee_id])
    verifier: Mapped[Membership | None] = relationship(foreign_keys=[verifier_id])

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "number"),
        # one corrective action per failed item of a run (a retried signal opens nothing new)
        sa.UniqueConstraint("run_id", "item_key"),
        sa.Index("ix_corrective_action_workspace_id_status_id", "workspace_id", "status", "id"),
        sa.Index("ix_corrective_action_checkpoint_id_id", "checkpoint_id", "id"),
        sa.Index("ix_corrective_action_assignee_id_status", "assignee_id", "status"),
    )


class InspectionSchedule(WorkspaceScoped, db.Model):
    """Rounds at a checkpoint: daily, weekly on a weekday, or on given weekdays, at a local time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("checkpoint.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(sa.String(20), default="daily")
    weekdays: Mapped[list[int]] = mapped_column(sa.JSON, default=list)  # 0 = Monday
    time_of_day: Mapped[dt.time] = mapped_column(sa.Time, default=dt.time(9, 0))
    window_hours: Mapped[int] = mapped_column(default=4)
    inspector_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    checkpoint: Mapped[Checkpoint] = relationship(foreign_keys=[checkpoint_id])
    inspector: Mapped[Membership | None] = relationship(foreign_keys=[inspector_id])

    __table_args__ = (sa.Index("ix_inspection_schedule_checkpoint_id", "checkpoint_id"),)

    def days(self) -> set[int]:
        """The weekdays the schedule runs on (0 = Monday)."""
        if self.frequency == "daily":
            return set(range(7))
        return {int(d) for d in (self.weekdays or []) if 0 <= int(d) <= 6}


class InspectionRound(WorkspaceScoped, db.Model):
    """One due inspection a schedule generated: done by a run inside its window, or missed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("inspection_schedule.id", ondelete="CASCADE")
    )
    checkpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("checkpoint.id", ondelete="CASCADE"))
    inspector_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    due_at: Mapped[dt.datetime]
    window_ends_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(sa.String(20), default=DUE)
    run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("checklist_run.id", ondelete="SET NULL")
    )
    done_at: Mapped[dt.datetime | None]
    missed_at: Mapped[dt.datetime | None]

    checkpoint: Mapped[Checkpoint] = relationship(foreign_keys=[checkpoint_id])

    __table_args__ = (
        sa.UniqueConstraint("schedule_id", "due_at"),  # two schedulers generate a round once
        sa.Index("ix_inspection_round_workspace_id_due_at", "workspace_id", "due_at"),
        sa.Index("ix_inspection_round_status_window_ends_at", "status", "window_ends_at"),
        sa.Index(
            "ix_inspection_round_checkpoint_id_status_due_at", "checkpoint_id", "status", "due_at"
        ),
    )


class Finding(WorkspaceScoped, db.Model):
    """A problem a visitor reported at a checkpoint's QR page, for an inspector to triage."""

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("checkpoint.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(sa.Text)
    contact: Mapped[str] = mapped_column(sa.String(120), default="")
    photo_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    address: Mapped[str] = mapped_column(sa.String(64), default="")  # for the rate limit
    status: Mapped[str] = mapped_column(sa.String(20), default=NEW)
    corrective_action_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("corrective_action.id", ondelete="SET NULL")
    )
    handled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    handled_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    checkpoint: Mapped[Checkpoint] = relationship(foreign_keys=[checkpoint_id])

    __table_args__ = (
        sa.Index("ix_finding_workspace_id_status_id", "workspace_id", "status", "id"),
        sa.Index("ix_finding_address_created_at", "address", "created_at"),
    )


def answer_photos(value: Any) -> list[int]:
    """A JSON list of file ids as ints (rows written by hand may hold strings)."""
    return [int(v) for v in (value or []) if str(v).isdigit()]
