"""Task queries the document services share (no request, no engine state)."""

from __future__ import annotations

import sqlalchemy as sa

from suite.db import db
from suite.workflow.models import OPEN, WorkflowTask


def returned_task(instance_id: int | None, assignee_id: int) -> WorkflowTask | None:
    """The assignee's open edit task when the running process sent the document back (退回)."""
    if instance_id is None:
        return None
    return db.session.scalar(
        sa.select(WorkflowTask).where(
            WorkflowTask.instance_id == instance_id,
            WorkflowTask.kind == "edit",
            WorkflowTask.status == OPEN,
            WorkflowTask.assignee_id == assignee_id,
        )
    )
