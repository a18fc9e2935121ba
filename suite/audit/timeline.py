"""A record's events for its page: who did what, when, with the field changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from suite.audit.models import AuditEvent
from suite.auth.models import User
from suite.db import db


@dataclass
class TimelineEntry:
    event: AuditEvent
    actor: str | None
    changes: list[tuple[str, Any, Any]]


def _changes(ev: AuditEvent) -> list[tuple[str, Any, Any]]:
    if ev.action == "update":
        return [(k, old, new) for k, (old, new) in sorted(ev.payload.get("changes", {}).items())]
    if ev.action == "create":
        return [
            (k, None, v)
            for k, v in sorted(ev.payload.get("values", {}).items())
            if v not in (None, "", []) and k not in {"id", "workspace_id"}
        ]
    return []


def entries(events: list[AuditEvent]) -> list[TimelineEntry]:
    ids = {e.actor_id for e in events if e.actor_id}
    names = (
        dict(
            db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all()
        )
        if ids
        else {}
    )
    return [TimelineEntry(e, names.get(e.actor_id), _changes(e)) for e in events]


def timeline_for(entity_type: str, entity_id: int | str, limit: int = 50) -> list[TimelineEntry]:
    events = list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq.desc())
            .limit(limit)
        )
    )
    return entries(events)
