"""Background jobs: a real `flask suite worker` process on Redis, and the inline default."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq.job import JobStatus
from sqlalchemy.pool import NullPool

from suite.audit.models import AuditEvent
from suite.auth.models import Department
from suite.db import db
from suite.jobs import enqueue
from suite.tenancy import system, use_workspace

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")
CREATE = "tests.pg.jobs_helper:create_department"
FAIL = "tests.pg.jobs_helper:create_department_then_fail"


def departments(url: str) -> dict[str, tuple[int, int]]:
    """name -> (id, workspace_id), read on a fresh connection: only committed rows."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT name, id, workspace_id FROM department")).all()
    finally:
        engine.dispose()
    return {r.name: (r.id, r.workspace_id) for r in rows}


@pytest.mark.pg
@pytest.mark.redis
def test_real_worker_process_runs_enqueued_jobs(
    pg_app, pg_url, redis_url, pg_workspace, tmp_path, monkeypatch
):
    ws = pg_workspace("acme")
    monkeypatch.setitem(pg_app.config, "SUITE_REDIS_URL", redis_url)
    with pg_app.app_context(), use_workspace(ws.id):
        job = enqueue(CREATE, "Made by RQ 工作")
        failing = enqueue(FAIL, "Rolled back")
    try:
        assert job.get_status() == JobStatus.QUEUED
        assert departments(pg_url) == {}  # nothing ran in this process

        env = {
            **os.environ,
            "SUITE_DATABASE_URL": pg_url,
            "SUITE_REDIS_URL": redis_url,
            "SUITE_INSTANCE_PATH": str(tmp_path / "instance"),
            "SUITE_SECRET_KEY": "worker-test",
        }
        started = time.monotonic()
        proc = subprocess.run(
            [str(FLASK), "--app", "suite.app:create_app", "suite", "worker", "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        took = time.monotonic() - started
        log = f"exit {proc.returncode} after {took:.1f}s\n{proc.stdout}\n{proc.stderr}"
        assert proc.returncode == 0, log

        assert job.get_status() == JobStatus.FINISHED, log
        rows = departments(pg_url)
        assert rows["Made by RQ 工作"] == (job.return_value(refresh=True), ws.id)
        # A job that raises is FAILED and its writes are rolled back.
        assert failing.get_status() == JobStatus.FAILED, log
        assert "JobFailedError" in (failing.latest_result().exc_string or "")
        assert "Rolled back" not in rows
    finally:
        job.connection.close()

    with pg_app.app_context(), system():  # the worker's write went through the audit recorder
        dept_id = rows["Made by RQ 工作"][0]
        event = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.entity_type == "department", AuditEvent.entity_id == str(dept_id)
            )
        )
        assert event is not None and event.action == "create" and event.workspace_id == ws.id
        db.session.remove()


@pytest.mark.pg
def test_without_redis_enqueue_runs_inline_and_commits(pg_app, pg_url, pg_workspace):
    ws = pg_workspace("acme")
    assert not pg_app.config["SUITE_REDIS_URL"]
    with pg_app.app_context(), use_workspace(ws.id):
        dept_id = enqueue(CREATE, "Made inline")  # the job's return value, not an RQ job
        assert isinstance(dept_id, int)
        assert departments(pg_url) == {"Made inline": (dept_id, ws.id)}  # already committed
        with pytest.raises(RuntimeError, match="failed after writing"):
            enqueue(FAIL, "Rolled back inline")
    assert "Rolled back inline" not in departments(pg_url)
    with pg_app.app_context(), system():
        assert db.session.get(Department, dept_id).workspace_id == ws.id
        db.session.remove()


@pytest.mark.pg
def test_jobs_enqueued_in_a_request_wait_for_its_success(pg_app, pg_url, pg_workspace):
    from suite.jobs import dispatch_deferred
    from suite.tenancy import Workspace

    ws = pg_workspace("acme")
    with pg_app.test_request_context("/"), use_workspace(ws.id):
        mine = db.session.get(Workspace, ws.id)
        mine.name = "edited, not yet committed"
        enqueue(CREATE, "Deferred")
        enqueue(FAIL, "Deferred and failing")
        assert mine.name == "edited, not yet committed"  # the caller's work is untouched
        assert "Deferred" not in departments(pg_url)  # nothing ran yet
        db.session.commit()
        dispatch_deferred(pg_app.response_class("ok"))  # a failing job is logged, not raised
    assert departments(pg_url)["Deferred"][1] == ws.id
    assert "Deferred and failing" not in departments(pg_url)
    with pg_app.test_request_context("/"), use_workspace(ws.id):
        enqueue(CREATE, "After a failed request")
        dispatch_deferred(pg_app.response_class("no", status=422))
    assert "After a failed request" not in departments(pg_url)
