"""Inspections on PostgreSQL: two schedulers sweeping at once make each round once and flag
each miss once (ON CONFLICT DO NOTHING, FOR UPDATE SKIP LOCKED); two deliveries of the same
run's `run_submitted` at once open one corrective action per failed item (the run row lock);
S8 steps 1-4 (tests/scenarios/s8_steps.py, s8_later_steps.py) with the same numbers."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from modules.inspections import receivers
from modules.inspections.models import CorrectiveAction, InspectionRound, InspectionSchedule
from modules.inspections.services import rounds
from suite.checklists.models import ChecklistRun
from suite.checklists.signals import run_submitted
from suite.db import db, utcnow
from suite.notify.models import OutboxMessage
from suite.tenancy import use_workspace
from suite.workflow.models import ProcessInstance
from tests.modules.inspections.factories import make_points, submit_run
from tests.scenarios.s8_later_steps import run_later_steps

pytestmark = pytest.mark.pg
TZ = ZoneInfo("Asia/Shanghai")


def _people(pg_workspace, pg_member, pg_department):
    ws = pg_workspace("acme")
    head = pg_member(ws, "head", roles=("suite.dept_head",))
    dept = pg_department(ws, "Production", head_id=head)
    owner = pg_member(
        ws, "owner", roles=("inspections.area_owner",), department_id=dept, manager_id=head
    )
    inspector = pg_member(ws, "inspector", roles=("inspections.inspector",), department_id=dept)
    return ws, owner, inspector


def _together(n: int, work) -> list:
    """`work()` in `n` threads released at once, each with its own app context and connection."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(results) == n
    return results


def test_two_schedulers_make_each_round_once_and_flag_each_miss_once(
    pg_app, pg_workspace, pg_member, pg_department
):
    ws, owner, inspector = _people(pg_workspace, pg_member, pg_department)
    with pg_app.app_context(), use_workspace(ws.id):
        for p in make_points(owner, 5):
            rounds.save_schedule(
                None,
                checkpoint_id=p.id,
                frequency="daily",
                weekdays=(),
                time_of_day=dt.time(9),
                window_hours=4,
                inspector_id=inspector,
            )
        for s in db.session.scalars(sa.select(InspectionSchedule)):
            s.created_at = utcnow() - dt.timedelta(days=3)
        db.session.commit()
        db.session.remove()
    today = utcnow().astimezone(TZ).date()
    # 14:00: yesterday's and today's windows (09:00-13:00) are both over
    at = dt.datetime.combine(today, dt.time(14), tzinfo=TZ).astimezone(dt.UTC)

    def sweep() -> tuple[int, int]:
        with pg_app.app_context():
            try:
                return rounds.sweep(at)
            finally:
                db.session.remove()

    for attempt in range(3):  # the first makes and flags everything; the others find nothing
        results = _together(4, sweep)
        made, flagged = sum(r[0] for r in results), sum(r[1] for r in results)
        assert (made, flagged) == ((10, 10) if attempt == 0 else (0, 0)), results
    with pg_app.app_context(), use_workspace(ws.id):
        statuses = db.session.scalars(sa.select(InspectionRound.status)).all()
        assert sorted(statuses) == ["missed"] * 10
        told = db.session.scalar(
            sa.select(sa.func.count(OutboxMessage.id)).where(
                OutboxMessage.event == "inspections.round_missed",
                OutboxMessage.recipient_id == inspector,
            )
        )
        assert told == 10


def test_concurrent_run_submitted_for_one_run_opens_one_action_per_item(
    pg_app, pg_workspace, pg_member, pg_department
):
    ws, owner, inspector = _people(pg_workspace, pg_member, pg_department)
    run_submitted.disconnect(receivers.on_run_submitted)  # make the run without its delivery
    try:
        with pg_app.app_context(), use_workspace(ws.id):
            (point,) = make_points(owner, 1)
            run = submit_run(point, inspector, fails=("exits", "doors"), pressure="0.7")
            db.session.commit()
            run_id = run.id
            assert db.session.scalar(sa.select(sa.func.count(CorrectiveAction.id))) == 0
            db.session.remove()
    finally:
        receivers.connect()

    def deliver() -> int:
        with pg_app.app_context(), use_workspace(ws.id):
            try:
                run = db.session.get(ChecklistRun, run_id)
                run_submitted.send(run)
                db.session.commit()
                return run_id
            finally:
                db.session.remove()

    _together(4, deliver)
    with pg_app.app_context(), use_workspace(ws.id):
        cas = db.session.scalars(
            sa.select(CorrectiveAction.item_key).order_by(CorrectiveAction.id)
        ).all()
        assert cas == ["exits", "doors", "pressure"]
        numbers = db.session.scalars(sa.select(CorrectiveAction.number)).all()
        assert len(set(numbers)) == 3
        assert db.session.scalar(sa.select(sa.func.count(ProcessInstance.id))) == 3


def test_s8_steps_1_to_4_on_postgresql(pg_app):
    run_later_steps(pg_app)
