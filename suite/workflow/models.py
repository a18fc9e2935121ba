"""Process definitions, immutable versions, running instances, tasks, commands, timers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite.db import WorkspaceScoped, db, utcnow


class ProcessDefinition(WorkspaceScoped, db.Model):
    """A workspace's copy of a template (by key), with the admin's draft overlay."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120))
    draft: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # overlay being edited
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_version.id", ondelete="SET NULL", use_alter=True)
    )

    current_version: Mapped[ProcessVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    __table_args__ = (sa.UniqueConstraint("workspace_id", "key"),)


class ProcessVersion(WorkspaceScoped, db.Model):
    """Immutable: the compiled spec a published overlay produced. Instances pin one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_definition.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    overlay: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    spec: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    template_hash: Mapped[str] = mapped_column(sa.String(64))
    published_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    definition: Mapped[ProcessDefinition] = relationship(foreign_keys=[definition_id])

    __table_args__ = (sa.UniqueConstraint("definition_id", "number"),)


class ProcessInstance(WorkspaceScoped, db.Model):
    """One run of a process for one document."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("process_version.id"), index=True)
    document_type: Mapped[str] = mapped_column(sa.String(80))
    document_id: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="running")
    initiator_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    state: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    values: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    moved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # last change of position
    ended_at: Mapped[dt.datetime | None]

    process_version: Mapped[ProcessVersion] = relationship(foreign_keys=[version_id])

    __table_args__ = (
        sa.Index("ix_process_instance_document", "workspace_id", "document_type", "document_id"),
        sa.Index("ix_process_instance_initiator_id_id", "initiator_id", "id"),
    )


OPEN = "open"
WAITING = "waiting"
LIVE = (OPEN, WAITING)


class WorkflowTask(WorkspaceScoped, db.Model):
    """One person's part in one node: to approve, to edit (resubmit) or to read (CC)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    node: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(20), default="approval")  # approval/edit/cc
    assignee_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("membership.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default=OPEN)
    seq: Mapped[int] = mapped_column(default=0)
    round: Mapped[int] = mapped_column(default=1)
    added_by_task_id: Mapped[int | None] = mapped_column(sa.Integer)
    added_how: Mapped[str | None] = mapped_column(sa.String(20))  # before/after/parallel/escalated
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acted_at: Mapped[dt.datetime | None]
    due_at: Mapped[dt.datetime | None]
    read_at: Mapped[dt.datetime | None]

    instance: Mapped[ProcessInstance] = relationship(foreign_keys=[instance_id])

    __table_args__ = (
        # The inbox: my open tasks, newest first, and my done ones.
        sa.Index(
            "ix_workflow_task_open_assignee",
            "assignee_id",
            "id",
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        ),
        sa.Index("ix_workflow_task_assignee_status_id", "assignee_id", "status", "id"),
    )


class CommandLog(WorkspaceScoped, db.Model):
    """Idempotency: the first answer to a command key; a repeated click gets it again."""

    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120))
    instance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    command: Mapped[str] = mapped_column(sa.String(40))
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("workspace_id", "key"),)


class WorkflowTimer(WorkspaceScoped, db.Model):
    """A due row (remind / escalate / auto_action / wait) fired through the command path."""

    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workflow_task.id", ondelete="CASCADE"), index=True
    )
    node: Mapped[str | None] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(20))
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")  # firing/fired/cancelled
    claimed_at: Mapped[dt.datetime | None]  # a claim older than the lease is claimed again
    fired_at: Mapped[dt.datetime | None]

    __table_args__ = (
        sa.Index(
            "ix_workflow_timer_pending_due",
            "due_at",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
    )


class Delegation(WorkspaceScoped, db.Model):
    """Out of office: tasks for `member` go to `delegate` between the two times (代理审批)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    note: Mapped[str | None] = mapped_column(sa.String(200))
