"""Checklist templates (versioned), checkpoints with QR tokens, runs and their answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite.auth.models import Membership
from suite.db import DecimalType, WorkspaceScoped, db, utcnow

# Item types of a template's spec (see docs/CHECKLISTS.md for the spec's shape).
ITEM_TYPES = ("pass_fail", "yes_no", "number", "text", "select", "date", "photo", "signature")
DRAFT, SUBMITTED = "draft", "submitted"


class ChecklistTemplate(WorkspaceScoped, db.Model):
    """A checklist as the admin edits it: `draft` is the working spec, versions are published."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    module: Mapped[str] = mapped_column(sa.String(40), default="inspections")
    draft: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("checklist_template_version.id", ondelete="SET NULL", use_alter=True)
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    current_version: Mapped[ChecklistTemplateVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class ChecklistTemplateVersion(WorkspaceScoped, db.Model):
    """An immutable published spec; runs point at the version they were filled against."""

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        sa.ForeignKey("checklist_template.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    spec: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )

    template: Mapped[ChecklistTemplate] = relationship(foreign_keys=[template_id])

    __table_args__ = (sa.UniqueConstraint("template_id", "number"),)


class Checkpoint(WorkspaceScoped, db.Model):
    """A place a QR label hangs (a site's area, a machine, a store door)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    code: Mapped[str] = mapped_column(sa.String(20))  # short code printed under the QR code
    site: Mapped[str] = mapped_column(sa.String(120), default="")
    area: Mapped[str] = mapped_column(sa.String(120), default="")
    module: Mapped[str] = mapped_column(sa.String(40), default="inspections")
    template_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("checklist_template.id", ondelete="SET NULL")
    )
    owner_id: Mapped[int | None] = mapped_column(  # the area owner: corrective actions go here
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)  # the live QR token
    anonymous_reports: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    template: Mapped[ChecklistTemplate | None] = relationship(foreign_keys=[template_id])
    owner: Mapped[Membership | None] = relationship(foreign_keys=[owner_id])

    __table_args__ = (sa.UniqueConstraint("workspace_id", "code"),)


class CheckpointToken(WorkspaceScoped, db.Model):
    """Every token a checkpoint ever had: a revoked one answers "this label is no longer valid"."""

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("checkpoint.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]


class ChecklistRun(WorkspaceScoped, db.Model):
    """One filling of a checklist at a checkpoint: a draft saved as answers come, then submitted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(sa.String(40))  # given on submit
    checkpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("checkpoint.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_template_version.id"))
    inspector_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(20), default=DRAFT)
    submit_key: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    score: Mapped[Decimal | None] = mapped_column(DecimalType(9, 2))
    max_score: Mapped[Decimal | None] = mapped_column(DecimalType(9, 2))
    failed_count: Mapped[int] = mapped_column(default=0)
    out_of_range_count: Mapped[int] = mapped_column(default=0)
    latitude: Mapped[Decimal | None] = mapped_column(DecimalType(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(DecimalType(9, 6))
    signature_file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_file.id", ondelete="SET NULL")
    )

    checkpoint: Mapped[Checkpoint] = relationship(foreign_keys=[checkpoint_id])
    version: Mapped[ChecklistTemplateVersion] = relationship(foreign_keys=[version_id])
    inspector: Mapped[Membership | None] = relationship(foreign_keys=[inspector_id])

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "submit_key"),
        sa.Index("ix_checklist_run_checkpoint_id_id", "checkpoint_id", "id"),
        sa.Index("ix_checklist_run_workspace_id_submitted_at", "workspace_id", "submitted_at"),
    )


class ChecklistAnswer(WorkspaceScoped, db.Model):
    """The answer to one item of a run, saved the moment it is entered."""

    __audited__ = False  # drafts change with every tap; the run's submit event records them

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_run.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(sa.String(40))
    result: Mapped[str | None] = mapped_column(sa.String(10))  # pass / fail / na / yes / no
    value: Mapped[str] = mapped_column(sa.Text, default="")  # text, select, date as text
    number: Mapped[Decimal | None] = mapped_column(DecimalType(14, 4))
    out_of_range: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    photo_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("run_id", "item_key"),)
