"""SLA timers: due rows fired through the normal command path, exactly once (ARCHITECTURE 4.4).

Two steps so that a timer and a user's command never lock in opposite orders:
1. claim: in a short transaction, due rows are picked with `FOR UPDATE SKIP LOCKED` (any number
   of schedulers take disjoint rows) and marked `firing` with a lease;
2. fire: each in its own transaction, as the command `remind` / `escalate` / `timeout` /
   `resume` with the idempotency key `timer:<id>`, and marked `fired` in that transaction.
A scheduler that dies between the two leaves `firing` rows; after the lease they are claimed again,
and the key makes a second firing a no-op.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa

from suite.db import db, utcnow
from suite.tenancy import system, use_workspace
from suite.workflow import engine
from suite.workflow.models import WorkflowTimer
from suite.workflow.planner import CommandRefused

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=5)
COMMANDS = {"remind": "remind", "escalate": "escalate", "timeout": "timeout", "wait": "resume"}


def claim(now: dt.datetime, batch: int = 200) -> list[Any]:
    t = WorkflowTimer.__table__
    due = sa.or_(
        sa.and_(t.c.status == "pending", t.c.due_at <= now),
        sa.and_(t.c.status == "firing", t.c.claimed_at < now - LEASE),
    )
    with system():
        ids = list(
            db.session.execute(
                sa.select(t.c.id)
                .where(due)
                .order_by(t.c.due_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        if not ids:
            db.session.commit()
            return []
        db.session.execute(
            sa.update(t).where(t.c.id.in_(ids)).values(status="firing", claimed_at=now)
        )
        rows = db.session.execute(sa.select(t).where(t.c.id.in_(ids)).order_by(t.c.due_at)).all()
        db.session.commit()
    return rows


def fire(row: Any, now: dt.datetime) -> bool:
    """Fire one claimed timer; True when it did something (False: moot, e.g. the task is done)."""
    t = WorkflowTimer.__table__
    acted = False
    with use_workspace(row.workspace_id):
        try:
            try:
                result = engine.command(
                    row.instance_id,
                    COMMANDS[row.kind],
                    None,
                    key=f"timer:{row.id}",
                    task_id=row.task_id,
                    target=row.node,
                )
                acted = not result.replayed  # replayed: another scheduler fired it after the lease
            except CommandRefused as refused:
                log.info("timer %s moot: %s", row.id, refused.code)
                db.session.rollback()
            db.session.execute(
                sa.update(t)
                .where(t.c.id == row.id, t.c.status == "firing")
                .values(status="fired", fired_at=now)
            )
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("timer %s failed; it is claimed again after the lease", row.id)
            return False
    return acted


def sweep(now: dt.datetime | None = None, batch: int = 200) -> int:
    """Claim and fire due timers; returns how many were fired."""
    now = now or utcnow()
    fired = 0
    for row in claim(now, batch):
        fired += fire(row, now)
    return fired
