"""Scheduled rounds: the sweep generates due rounds, a submitted run ticks one off, a round
whose window passed is flagged missed and its inspectors told once.

The sweep runs in every scheduler copy (`flask suite scheduler`, the web process's thread): rounds
are inserted with ON CONFLICT DO NOTHING on (schedule_id, due_at), and missed rounds are claimed
with FOR UPDATE SKIP LOCKED and moved under `status = 'due'`, so two schedulers make each round
once and flag each miss once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from modules.inspections.models import (
    DONE,
    DUE,
    FREQUENCIES,
    MISSED,
    InspectionRound,
    InspectionSchedule,
)
from suite.auth.models import Membership, MembershipRole, Role
from suite.checklists.models import ChecklistRun, Checkpoint
from suite.db import db, utcnow
from suite.errors import DomainError
from suite.notify import notify
from suite.tenancy import Workspace, system, use_workspace

INSPECTOR_ROLE = "inspections.inspector"
MAX_WINDOW_HOURS = 24


def zone(workspace_id: int) -> ZoneInfo:
    with system():
        name = db.session.scalar(sa.select(Workspace.timezone).where(Workspace.id == workspace_id))
    try:
        return ZoneInfo(name or "Asia/Shanghai")
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def save_schedule(
    schedule: InspectionSchedule | None,
    *,
    checkpoint_id: int,
    frequency: str,
    weekdays: Iterable[int],
    time_of_day: dt.time,
    window_hours: int,
    inspector_id: int | None,
    active: bool = True,
) -> InspectionSchedule:
    """Create or change a schedule; changes apply to rounds not generated yet."""
    if frequency not in FREQUENCIES:
        raise DomainError(_("Not a valid choice."), "frequency")
    days = sorted({int(d) for d in weekdays if 0 <= int(d) <= 6})
    if frequency == "weekly" and len(days) != 1:
        raise DomainError(_("Choose one weekday."), "weekdays")
    if frequency == "weekdays" and not days:
        raise DomainError(_("Choose at least one weekday."), "weekdays")
    if not 1 <= window_hours <= MAX_WINDOW_HOURS:
        raise DomainError(
            _("Between %(a)s and %(b)s hours.", a=1, b=MAX_WINDOW_HOURS), "window_hours"
        )
    if db.session.get(Checkpoint, checkpoint_id) is None:
        raise DomainError(_("Not a valid choice."), "checkpoint_id")
    if schedule is None:
        schedule = InspectionSchedule(checkpoint_id=checkpoint_id)
        db.session.add(schedule)
    schedule.checkpoint_id = checkpoint_id
    schedule.frequency = frequency
    schedule.weekdays = [] if frequency == "daily" else days
    schedule.time_of_day = time_of_day.replace(second=0, microsecond=0)
    schedule.window_hours = window_hours
    schedule.inspector_id = inspector_id
    schedule.active = active
    db.session.flush()
    return schedule


def occurrences(
    schedule: InspectionSchedule, tz: ZoneInfo, first: dt.date, last: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """(due_at, window_ends_at) in UTC of the schedule's rounds on local days first..last."""
    out = []
    days = schedule.days()
    day = first
    while day <= last:
        if day.weekday() in days:
            local = dt.datetime.combine(day, schedule.time_of_day, tzinfo=tz)
            due = local.astimezone(dt.UTC)
            out.append((due, due + dt.timedelta(hours=schedule.window_hours)))
        day += dt.timedelta(days=1)
    return out


def _insert_ignoring_twins(rows: list[dict]) -> int:
    if not rows:
        return 0
    table = InspectionRound.__table__
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    made = 0
    for row in rows:  # RETURNING counts what was new (an executemany's rowcount may be -1)
        made += len(
            db.session.execute(
                insert.values(row)
                .on_conflict_do_nothing(index_elements=["schedule_id", "due_at"])
                .returning(table.c.id)
            ).all()
        )
    return made


def generate(schedules: Iterable[InspectionSchedule], now: dt.datetime) -> int:
    """Rounds of yesterday and today (local time) that do not exist yet; returns how many."""
    rows = []
    zones: dict[int, ZoneInfo] = {}
    for s in schedules:
        tz = zones.setdefault(s.workspace_id, zone(s.workspace_id))
        today = now.astimezone(tz).date()
        since = max(today - dt.timedelta(days=1), s.created_at.astimezone(tz).date())
        for due, ends in occurrences(s, tz, since, today):
            if ends < s.created_at:  # a schedule made today does not start with a missed round
                continue
            rows.append(
                {
                    "workspace_id": s.workspace_id,
                    "schedule_id": s.id,
                    "checkpoint_id": s.checkpoint_id,
                    "inspector_id": s.inspector_id,
                    "due_at": due,
                    "window_ends_at": ends,
                    "status": DUE,
                }
            )
    return _insert_ignoring_twins(rows)


def inspectors(workspace_id: int, round_: InspectionRound) -> list[int]:
    """Who is told about a missed round: its inspector, else every inspector."""
    if round_.inspector_id:
        return [round_.inspector_id]
    with use_workspace(workspace_id):
        return list(
            db.session.scalars(
                sa.select(Membership.id)
                .join(MembershipRole, MembershipRole.membership_id == Membership.id)
                .join(Role, Role.id == MembershipRole.role_id)
                .where(Role.code == INSPECTOR_ROLE, Membership.active.is_(True))
                .order_by(Membership.id)
            )
        )


def inspector_choices() -> list[tuple[int, str]]:
    """(membership id, name) of the workspace's active inspectors, for schedule forms."""
    from suite.auth.models import User

    return [
        (mid, name)
        for mid, name in db.session.execute(
            sa.select(Membership.id, User.display_name)
            .join(User, User.id == Membership.user_id)
            .join(MembershipRole, MembershipRole.membership_id == Membership.id)
            .join(Role, Role.id == MembershipRole.role_id)
            .where(Role.code == INSPECTOR_ROLE, Membership.active.is_(True))
            .order_by(User.display_name, Membership.id)
            .limit(500)
        )
    ]


def flag_missed(now: dt.datetime, batch: int = 200) -> int:
    """Rounds whose window ended without a run: missed, inspectors notified (once per round)."""
    t = InspectionRound.__table__
    with system():
        ids = list(
            db.session.scalars(
                sa.select(t.c.id)
                .where(t.c.status == DUE, t.c.window_ends_at < now)
                .order_by(t.c.window_ends_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            db.session.commit()
            return 0
        rounds = list(
            db.session.scalars(
                sa.select(InspectionRound)
                .where(InspectionRound.id.in_(ids), InspectionRound.status == DUE)
                .execution_options(populate_existing=True)
            )
        )
    by_workspace: dict[int, list[InspectionRound]] = defaultdict(list)
    for r in rounds:
        by_workspace[r.workspace_id].append(r)
    flagged = 0
    for ws_id, mine in by_workspace.items():
        with use_workspace(ws_id):
            for r in mine:
                r.status, r.missed_at = MISSED, now
                point = db.session.get(Checkpoint, r.checkpoint_id)
                name = point.name if point else ""
                notify(
                    inspectors(ws_id, r),
                    "inspections.round_missed",
                    _("Missed inspection round: %(name)s", name=name),
                    _(
                        "The round due at %(due)s was not done in its window.",
                        due=r.due_at.astimezone(zone(ws_id)).strftime("%Y-%m-%d %H:%M"),
                    ),
                    link="/inspections/rounds?status=missed",
                    channels=("in_app",),
                )
                flagged += 1
            db.session.flush()
    db.session.commit()
    return flagged


def sweep(now: dt.datetime | None = None) -> tuple[int, int]:
    """One scheduler pass: (rounds generated, rounds flagged missed)."""
    now = now or utcnow()
    with system():
        schedules = list(
            db.session.scalars(
                sa.select(InspectionSchedule).where(InspectionSchedule.active.is_(True))
            )
        )
        made = generate(schedules, now)
        db.session.commit()
    return made, flag_missed(now)


def periodic() -> None:
    """The scheduler's hook (Manifest.periodic)."""
    sweep()


def mark_done(run: ChecklistRun) -> int:
    """The submitted run completes the checkpoint's due rounds whose window holds its time."""
    at = run.submitted_at or utcnow()
    schedules = list(
        db.session.scalars(
            sa.select(InspectionSchedule).where(
                InspectionSchedule.checkpoint_id == run.checkpoint_id,
                InspectionSchedule.active.is_(True),
            )
        )
    )
    if not schedules:
        return 0
    generate(schedules, at)  # the sweep may not have made today's round yet
    t = InspectionRound.__table__
    result = db.session.execute(
        sa.update(t)
        .where(
            t.c.workspace_id == run.workspace_id,
            t.c.checkpoint_id == run.checkpoint_id,
            t.c.status == DUE,
            t.c.due_at <= at,
            t.c.window_ends_at >= at,
        )
        .values(status=DONE, run_id=run.id, done_at=at)
    )
    return result.rowcount or 0


def today_for(member_id: int, workspace_id: int, now: dt.datetime | None = None) -> list:
    """Today's rounds (local day) for an inspector: assigned to them or to nobody."""
    now = now or utcnow()
    tz = zone(workspace_id)
    day = now.astimezone(tz).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    end = start + dt.timedelta(days=1)
    return list(
        db.session.scalars(
            sa.select(InspectionRound)
            .where(
                InspectionRound.due_at >= start,
                InspectionRound.due_at < end,
                sa.or_(
                    InspectionRound.inspector_id == member_id,
                    InspectionRound.inspector_id.is_(None),
                ),
            )
            .order_by(InspectionRound.due_at, InspectionRound.id)
            .limit(50)
        )
    )
