"""The inspections dashboard: completion of scheduled rounds, pass rate by site and ISO week, the
items that fail most, open and overdue corrective actions.

Every query is bounded by the period (`weeks` ISO weeks up to `now`, in the workspace's time
zone) on an indexed time column (`inspection_round (workspace_id, due_at)`, `checklist_run
(workspace_id, submitted_at)`), or reads open actions through `(workspace_id, status, id)`.
Buckets by ISO week are made in Python from the bounded rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from modules.inspections.models import (
    CLOSED,
    DONE,
    DUE,
    MISSED,
    OPEN,
    CorrectiveAction,
    InspectionRound,
)
from modules.inspections.services.actions import CANCELLED, items_of
from suite.checklists.models import (
    ChecklistAnswer,
    ChecklistRun,
    ChecklistTemplateVersion,
    Checkpoint,
)
from suite.db import db, utcnow

FAILED = sa.or_(ChecklistAnswer.result.in_(("fail", "no")), ChecklistAnswer.out_of_range.is_(True))
SCORED = sa.or_(
    ChecklistAnswer.result.in_(("pass", "fail", "yes", "no")), ChecklistAnswer.number.is_not(None)
)
WEEK_CHOICES = (4, 8, 12, 26)
TOP = 10


@dataclass
class Dashboard:
    """What the page shows, as plain numbers (tests compare them exactly)."""

    start: dt.date  # Monday of the first week shown (local)
    end: dt.date  # the day after `now` (local)
    weeks: list[str]  # "2026-W49", oldest first
    completion: dict[str, int]  # done / due / missed rounds due in the period
    completion_by_week: dict[str, dict[str, int]]
    # site -> week -> (passed, scored) answers of submitted runs
    pass_counts: dict[str, dict[str, tuple[int, int]]]
    top_failing: list[tuple[str, int]]  # (item label, failures), most first
    open_actions: int  # not closed or cancelled
    overdue_actions: int  # still to fix, past due
    actions_by_site: dict[str, tuple[int, int]] = field(default_factory=dict)  # (open, overdue)

    def pass_rate(self, site: str, week: str) -> Decimal | None:
        """Percent of scored answers that passed, one decimal; None without answers."""
        passed, scored = self.pass_counts.get(site, {}).get(week, (0, 0))
        if not scored:
            return None
        return (Decimal(100) * passed / scored).quantize(Decimal("0.1"))

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def sites(self) -> list[str]:
        return sorted(self.pass_counts)

    @property
    def completion_rate(self) -> Decimal | None:
        """Done rounds as a percent of rounds whose window has closed or that are done."""
        settled = self.completion[DONE] + self.completion[MISSED]
        if not settled:
            return None
        return (Decimal(100) * self.completion[DONE] / settled).quantize(Decimal("0.1"))


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def build(tz: dt.tzinfo, *, weeks: int = 8, now: dt.datetime | None = None) -> Dashboard:
    """The dashboard of the current workspace for the last `weeks` ISO weeks up to `now`."""
    now = now or utcnow()
    today = now.astimezone(tz).date()
    start = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=weeks - 1)
    end = today + dt.timedelta(days=1)
    since = dt.datetime.combine(start, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    until = dt.datetime.combine(end, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    labels = [iso_week(start + dt.timedelta(weeks=n)) for n in range(weeks)]

    def week_of(at: dt.datetime) -> str:
        return iso_week(at.astimezone(tz).date())

    # completion: rounds due in the period, by status and week
    completion = dict.fromkeys((DONE, DUE, MISSED), 0)
    by_week: dict[str, dict[str, int]] = {w: dict.fromkeys((DONE, DUE, MISSED), 0) for w in labels}
    for due_at, status in db.session.execute(
        sa.select(InspectionRound.due_at, InspectionRound.status).where(
            InspectionRound.due_at >= since, InspectionRound.due_at < until
        )
    ):
        due_at = due_at if due_at.tzinfo else due_at.replace(tzinfo=dt.UTC)
        completion[status] = completion.get(status, 0) + 1
        by_week.setdefault(week_of(due_at), dict.fromkeys((DONE, DUE, MISSED), 0))
        by_week[week_of(due_at)][status] += 1

    # pass rate: scored answers of runs submitted in the period, per run, then by site and week
    runs = (
        sa.select(ChecklistRun.id, ChecklistRun.submitted_at, Checkpoint.site)
        .join(Checkpoint, Checkpoint.id == ChecklistRun.checkpoint_id)
        .where(
            ChecklistRun.status == "submitted",
            ChecklistRun.submitted_at >= since,
            ChecklistRun.submitted_at < until,
        )
        .subquery()
    )
    per_run = db.session.execute(
        sa.select(
            runs.c.submitted_at,
            runs.c.site,
            sa.func.count(ChecklistAnswer.id).filter(SCORED),
            sa.func.count(ChecklistAnswer.id).filter(SCORED, FAILED),
        )
        .select_from(runs)
        .join(ChecklistAnswer, ChecklistAnswer.run_id == runs.c.id)
        .group_by(runs.c.id, runs.c.submitted_at, runs.c.site)
    )
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for submitted_at, site, scored, failed in per_run:
        at = submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=dt.UTC)
        cell = counts[site or "—"][week_of(at)]
        cell[0] += scored - failed
        cell[1] += scored
    pass_counts = {
        site: {w: (c[0], c[1]) for w, c in weeks_.items()} for site, weeks_ in counts.items()
    }

    # top failing items: failed answers in the period by template version and key, labelled
    failing = db.session.execute(
        sa.select(
            ChecklistRun.version_id, ChecklistAnswer.item_key, sa.func.count(ChecklistAnswer.id)
        )
        .join(ChecklistAnswer, ChecklistAnswer.run_id == ChecklistRun.id)
        .where(
            ChecklistRun.status == "submitted",
            ChecklistRun.submitted_at >= since,
            ChecklistRun.submitted_at < until,
            FAILED,
        )
        .group_by(ChecklistRun.version_id, ChecklistAnswer.item_key)
    ).all()
    specs = {
        v.id: items_of(v.spec)
        for v in db.session.scalars(
            sa.select(ChecklistTemplateVersion).where(
                ChecklistTemplateVersion.id.in_({row[0] for row in failing})
            )
        )
    }
    by_label: Counter[str] = Counter()
    for version_id, key, n in failing:
        label = str((specs.get(version_id, {}).get(key) or {}).get("label") or key)
        by_label[label] += n
    top = sorted(by_label.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]

    # corrective actions still open (now, not bounded by the period: they are today's work),
    # counted by site in the database
    late = sa.and_(CorrectiveAction.status == OPEN, CorrectiveAction.due_at < now)
    by_site = {
        site or "—": (int(n), int(n_late))
        for site, n, n_late in db.session.execute(
            sa.select(
                Checkpoint.site,
                sa.func.count(CorrectiveAction.id),
                sa.func.count(CorrectiveAction.id).filter(late),
            )
            .join(Checkpoint, Checkpoint.id == CorrectiveAction.checkpoint_id)
            .where(CorrectiveAction.status.not_in((CLOSED, CANCELLED)))
            .group_by(Checkpoint.site)
        )
    }
    return Dashboard(
        start=start,
        end=end,
        weeks=labels,
        completion=completion,
        completion_by_week={w: by_week[w] for w in labels},
        pass_counts=pass_counts,
        top_failing=top,
        open_actions=sum(n for n, _late in by_site.values()),
        overdue_actions=sum(n_late for _n, n_late in by_site.values()),
        actions_by_site=dict(sorted(by_site.items())),
    )
