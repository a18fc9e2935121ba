"""Checklists on PostgreSQL: concurrent submits with one key record one run (the run row lock
and the unique key), and S8 steps 1-2 (tests/scenarios/s8_steps.py) with the same numbers."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from suite.auth.models import Membership
from suite.checklists import services
from suite.checklists.models import ChecklistRun
from suite.checklists.signals import run_submitted
from suite.db import db
from suite.tenancy import use_workspace
from tests.scenarios.s8_steps import run_steps
from tests.suite.checklist_helpers import build_template

pytestmark = pytest.mark.pg


def test_concurrent_submits_with_the_same_key_record_one_run(pg_app, pg_workspace, pg_member):
    ws = pg_workspace("acme")
    ivy = pg_member(ws, "ivy", roles=("inspections.inspector",))
    with pg_app.app_context(), use_workspace(ws.id):
        template, keys = build_template(items=[("pass_fail", {"label": "Exit", "required": "y"})])
        point = services.save_checkpoint(
            None, name="Door", code="D1", template_id=template.id, owner_id=ivy
        )
        run = services.open_run(point, db.session.get(Membership, ivy))
        services.save_answer(run, keys["pass_fail"], result="pass")
        db.session.commit()
        run_id = run.id
        db.session.remove()
    sent: list[int] = []
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def count(sender: ChecklistRun) -> None:
        sent.append(sender.id)

    def submit() -> None:
        try:
            with pg_app.app_context(), use_workspace(ws.id):
                barrier.wait()
                run = db.session.get(ChecklistRun, run_id)
                done, first = services.submit(run, db.session.get(Membership, ivy), key="same-key")
                db.session.commit()
                results.append((done.id, first))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_submitted.connect(count, weak=False)
    try:
        threads = [threading.Thread(target=submit) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        run_submitted.disconnect(count)
    assert not errors, errors
    assert sorted(first for _i, first in results) == [False] * 5 + [True]
    assert {i for i, _f in results} == {run_id}
    assert sent == [run_id]
    with pg_app.app_context(), use_workspace(ws.id):
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ChecklistRun)
                .where(ChecklistRun.status == "submitted")
            )
            == 1
        )


def test_s8_steps_1_2_on_postgresql(pg_app):
    run_steps(pg_app)


def test_api_submits_at_once_with_one_key_and_the_runs_list_on_postgresql(
    pg_app, pg_workspace, pg_member
):
    """Four API retries of one submit arriving together: one run, three replays; the runs list's
    date filter (workspace days, submitted or started) runs on PostgreSQL."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from suite.api import tokens

    ws = pg_workspace("acme")
    ivy = pg_member(ws, "ivy", roles=("inspections.inspector",))
    with pg_app.app_context(), use_workspace(ws.id):
        template, keys = build_template(items=[("pass_fail", {"label": "Exit", "required": "y"})])
        point = services.save_checkpoint(
            None, name="Door", code="D1", template_id=template.id, owner_id=ivy
        )
        _token, secret = tokens.issue(db.session.get(Membership, ivy), "pg")
        db.session.commit()
        point_id, key = point.id, keys["pass_fail"]
    auth = {"Authorization": f"Bearer {secret}"}
    client = pg_app.test_client()
    run_id = client.post(f"/api/v1/checkpoints/{point_id}/runs", headers=auth).get_json()["id"]
    answers = {"answers": {key: {"result": "pass"}}}
    resp = client.post(f"/api/v1/checklist-runs/{run_id}/answers", json=answers, headers=auth)
    assert resp.status_code == 200
    barrier = threading.Barrier(4)
    answers_seen: list[tuple[int, bool, str]] = []

    def submit() -> None:
        c = pg_app.test_client()
        barrier.wait()
        r = c.post(f"/api/v1/checklist-runs/{run_id}/submit", json={"key": "k"}, headers=auth)
        body = r.get_json()
        answers_seen.append(
            (r.status_code, body.get("replayed"), body.get("run", {}).get("number"))
        )

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(s for s, _r, _n in answers_seen) == [200] * 4
    assert sorted(r for _s, r, _n in answers_seen) == [False, True, True, True]
    assert len({n for _s, _r, n in answers_seen}) == 1
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    day = today.isoformat()
    got = client.get(f"/api/v1/checklist-runs?date_from={day}&date_to={day}", headers=auth)
    assert [r["id"] for r in got.get_json()["items"]] == [run_id]
    nxt = (today + dt.timedelta(days=1)).isoformat()
    got = client.get(f"/api/v1/checklist-runs?status=submitted&date_from={nxt}", headers=auth)
    assert got.get_json()["items"] == []
