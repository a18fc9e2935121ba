"""Daily anchors: per workspace and day, a hash over that day's chain heads, chained by day."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from suite.audit.chain import GENESIS
from suite.audit.models import AuditAnchor, AuditEvent
from suite.db import utcnow

# A day is anchored only once it has been over this long: a transaction open at midnight (a job
# may run for 10 minutes) commits events stamped on the day before, after the day has ended.
SETTLE = dt.timedelta(hours=1)


def _day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def anchor_of(
    session: Session, workspace_id: int, day: dt.date, prev_hash: str
) -> tuple[int, str, str]:
    """(event count, heads hash, anchor hash) for one workspace-day, from the events as stored."""
    from suite.tenancy import Workspace

    tz = ZoneInfo(session.get(Workspace, workspace_id).timezone)
    start, end = _day_bounds(day, tz)
    e = AuditEvent.__table__
    in_day = sa.and_(
        e.c.workspace_id == workspace_id, e.c.occurred_at >= start, e.c.occurred_at < end
    )
    last = (
        sa.select(e.c.entity_type, e.c.entity_id, sa.func.max(e.c.seq).label("seq"))
        .where(in_day)
        .group_by(e.c.entity_type, e.c.entity_id)
        .subquery()
    )
    rows = (
        session.connection()
        .execute(
            sa.select(e.c.entity_type, e.c.entity_id, e.c.hash)
            .join(
                last,
                sa.and_(
                    e.c.entity_type == last.c.entity_type,
                    e.c.entity_id == last.c.entity_id,
                    e.c.seq == last.c.seq,
                ),
            )
            .order_by(e.c.entity_type, e.c.entity_id)
        )
        .all()
    )
    count = session.connection().execute(sa.select(sa.func.count()).where(in_day)).scalar_one()
    heads = "".join(f"{r.entity_type}:{r.entity_id}:{r.hash}\n" for r in rows)
    heads_hash = hashlib.sha256(heads.encode()).hexdigest()
    digest = hashlib.sha256(
        f"{prev_hash}|{day.isoformat()}|{count}|{heads_hash}".encode()
    ).hexdigest()
    return count, heads_hash, digest


def anchor_workspace(
    session: Session, workspace_id: int, until: dt.date | None = None
) -> list[AuditAnchor]:
    """Anchor each finished day before `until` not yet anchored (default: every day there that
    ended at least SETTLE ago)."""
    from suite.tenancy import Workspace

    # Two schedulers anchoring at once: the second waits here, then finds the days done.
    # FOR NO KEY UPDATE: it does not wait for writers, whose foreign keys take KEY SHARE.
    ws = session.scalar(
        sa.select(Workspace).where(Workspace.id == workspace_id).with_for_update(key_share=True)
    )
    tz = ZoneInfo(ws.timezone)
    until = until or (utcnow() - SETTLE).astimezone(tz).date()
    last = session.scalars(
        sa.select(AuditAnchor)
        .where(AuditAnchor.workspace_id == workspace_id)
        .order_by(AuditAnchor.day.desc())
        .limit(1)
        .execution_options(all_workspaces=True)
    ).first()
    if last is not None:
        day, prev = last.day + dt.timedelta(days=1), last.hash
    else:
        first = (
            session.connection()
            .execute(
                sa.select(sa.func.min(AuditEvent.__table__.c.occurred_at)).where(
                    AuditEvent.__table__.c.workspace_id == workspace_id
                )
            )
            .scalar()
        )
        if first is None:
            return []
        if first.tzinfo is None:
            first = first.replace(tzinfo=dt.UTC)
        day, prev = first.astimezone(tz).date(), GENESIS
    made = []
    while day < until:
        count, heads_hash, digest = anchor_of(session, workspace_id, day, prev)
        anchor = AuditAnchor(
            workspace_id=workspace_id,
            day=day,
            events=count,
            heads_hash=heads_hash,
            prev_hash=prev,
            hash=digest,
        )
        session.add(anchor)
        made.append(anchor)
        day, prev = day + dt.timedelta(days=1), digest
    session.flush()
    return made


def anchor_all(session: Session) -> int:
    """The scheduler's daily task: anchor finished days of every workspace."""
    from suite.tenancy import Workspace, system

    with system():
        ids = session.scalars(sa.select(Workspace.id)).all()
        made = sum(len(anchor_workspace(session, ws_id)) for ws_id in ids)
    session.commit()
    return made
