"""The inbox tabs (ARCHITECTURE 4.6) as queries: to do, done, started by me, CC to me.

Newest first with keyset pagination (`after` = the last id of the previous page), each tab
served by an index on (assignee, ...) or (initiator, id).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from suite.db import db
from suite.workflow.models import OPEN, ProcessInstance, WorkflowTask

TABS = ("todo", "done", "started", "cc")


def _task_where(tab: str, me: int) -> list[sa.ColumnElement[bool]]:
    """The web inbox's tabs (`suite.workflow.views`); a test keeps the two in step."""
    from suite.workflow.views import DONE_STATUSES

    if tab == "todo":  # the partial index ix_workflow_task_open_assignee
        return [WorkflowTask.status == OPEN, WorkflowTask.assignee_id == me]
    if tab == "done":
        return [WorkflowTask.assignee_id == me, WorkflowTask.status.in_(DONE_STATUSES)]
    return [WorkflowTask.assignee_id == me, WorkflowTask.status == "cc"]


def counts(me: int) -> dict[str, int]:
    """How many rows each tab holds for member `me` (the web inbox's counts)."""
    from suite.workflow.views import inbox_counts

    found = inbox_counts(me)
    return {tab: found[tab] for tab in TABS}


def page(tab: str, me: int, after: int | None, limit: int) -> tuple[list[Any], int | None]:
    """One page of a tab, newest first: (rows, the `after` of the next page or None).

    Rows are `(WorkflowTask, ProcessInstance)` pairs, or `ProcessInstance`s for `started`.
    """
    if tab == "started":
        key = ProcessInstance.id
        stmt: sa.Select = sa.select(ProcessInstance).where(ProcessInstance.initiator_id == me)
    else:
        key = WorkflowTask.id
        stmt = (
            sa.select(WorkflowTask, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.id == WorkflowTask.instance_id)
            .where(*_task_where(tab, me))
        )
    if after is not None:
        stmt = stmt.where(key < after)
    stmt = stmt.order_by(key.desc()).limit(limit + 1)
    if tab == "started":
        rows: list[Any] = list(db.session.scalars(stmt))
        last_id = rows[limit - 1].id if len(rows) > limit else None
    else:
        rows = [tuple(r) for r in db.session.execute(stmt)]
        last_id = rows[limit - 1][0].id if len(rows) > limit else None
    return rows[:limit], last_id
