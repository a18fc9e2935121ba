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
