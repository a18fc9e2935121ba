"""The audit chain on PostgreSQL: concurrent writers, `flask suite verify-audit`, daily anchors."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import suite.audit.anchor
import suite.audit.recorder
import suite.db
from suite.audit.anchor import anchor_all
from suite.audit.chain import GENESIS, event_hash, header_of
from suite.audit.models import AuditAnchor, AuditEvent
from suite.audit.verify import verify
from suite.auth.models import Department
from suite.db import db
from suite.tenancy import system, use_workspace

pytestmark = pytest.mark.pg

THREADS = 8


def run_threads(app, workspace_id: int, n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(0..n-1) at once, each thread with its own app context, session and transaction."""
    results: list[Any] = [None] * n
    errors: list[tuple[int, str]] = []

    def target(i: int) -> None:
        try:
            with app.app_context():
                try:
                    with use_workspace(workspace_id):
                        results[i] = fn(i)
                finally:
                    db.session.remove()
        except BaseException as exc:  # reported below: a thread's exception must fail the test
            errors.append((i, f"{type(exc).__name__}: {exc}"))

    threads = [threading.Thread(target=target, args=(i,), name=f"writer-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not [t.name for t in threads if t.is_alive()], "writers hung"
    assert not errors, errors
    return results


def chain_of(entity_type: str, entity_id: int | str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq)
            .execution_options(all_workspaces=True)
        )
    )


def assert_linear(events: list[AuditEvent]) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    prev = GENESIS
    for e in events:
        assert e.prev_hash == prev, f"event #{e.id} does not link to its predecessor"
        assert event_hash(prev, header_of(e), e.payload) == e.hash
        prev = e.hash
    assert len({e.hash for e in events}) == len(events)


# --- concurrency ----------------------------------------------------------------------------------


def test_writers_to_different_records_do_not_wait_on_each_other(
    pg_app, pg_workspace, pg_department
):
    ws = pg_workspace("acme")
    ids = [pg_department(ws, f"Dept {i}") for i in range(THREADS)]
    # Every writer flushes (row UPDATE + audit INSERT) and then waits for all the others while
    # its transaction is still open: a workspace-wide lock or a shared chain head would make the
    # barrier time out.
    barrier = threading.Barrier(THREADS, timeout=20)

    def rename(i: int) -> int:
        dept = db.session.get(Department, ids[i])
        dept.name = f"Renamed {i}"
        db.session.flush()
        barrier.wait()
        db.session.commit()
        return i

    assert run_threads(pg_app, ws.id, THREADS, rename) == list(range(THREADS))
    with pg_app.app_context(), system():
        for i, dept_id in enumerate(ids):
            events = chain_of("department", dept_id)
            assert [e.action for e in events] == ["create", "update"]
            assert events[1].payload["changes"]["name"] == [f"Dept {i}", f"Renamed {i}"]
            assert_linear(events)
        assert verify(db.session) == []
        db.session.remove()


def test_writers_to_the_same_record_make_one_linear_chain(pg_app, pg_workspace, pg_department):
    ws = pg_workspace("acme")
    dept_id = pg_department(ws, "Shared")
    start = threading.Barrier(THREADS, timeout=20)

    def rename(i: int) -> None:
        dept = db.session.get(Department, dept_id)  # everyone reads the same version...
        start.wait()
        dept.name = f"Writer {i}"  # ...and writes at once; the row UPDATE serialises them
        db.session.commit()

    run_threads(pg_app, ws.id, THREADS, rename)
    with pg_app.app_context(), system():
        events = chain_of("department", dept_id)
        assert [e.action for e in events] == ["create"] + ["update"] * THREADS
        assert_linear(events)  # seq 1..n, each links to the one before: no fork
        writers = {e.payload["changes"]["name"][1] for e in events[1:]}
        assert writers == {f"Writer {i}" for i in range(THREADS)}
        final = db.session.get(Department, dept_id)
        assert final.name == events[-1].payload["changes"]["name"][1]
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.entity_type == "department", AuditEvent.entity_id == str(dept_id))
            )
            == THREADS + 1
        )
        assert verify(db.session) == []
        db.session.remove()


# --- flask suite verify-audit ---------------------------------------------------------------------


def test_verify_audit_cli_names_the_first_broken_event(
    pg_app, pg_workspace, pg_member, pg_department
):
    ws = pg_workspace("acme")
    boss = pg_member(ws, "boss", roles=("suite.admin",))
    dept_id = pg_department(ws, "Sales", head_id=boss)
    pg_department(ws, "Plant")
    runner = pg_app.test_cli_runner()

    ok = runner.invoke(args=["suite", "verify-audit"])
    assert ok.exit_code == 0, ok.output
    assert re.search(r"audit trail OK: \d+ events verified", ok.output)

    with pg_app.app_context(), system():
        last = chain_of("department", dept_id)[-1]
        with db.engine.begin() as conn:  # a change behind the app's back
            conn.execute(
                sa.text("UPDATE department SET name = 'x' WHERE id = :id"), {"id": dept_id}
            )
        db.session.remove()

    broken = runner.invoke(args=["suite", "verify-audit"])
    assert broken.exit_code == 1, broken.output
    assert f"first at event #{last.id} (department {dept_id})" in broken.output
    assert "'Sales' -> 'x'" in broken.output


# --- daily anchors --------------------------------------------------------------------------------


class Clock:
    """Stands in for utcnow(): a fixed instant, or the real time while `now` is None."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)


def noon(day: dt.date, tz: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def local_day(ts: dt.datetime, tz: str) -> dt.date:
    return ts.astimezone(ZoneInfo(tz)).date()


@pytest.fixture
def history(pg_app, pg_workspace, pg_member, pg_department, monkeypatch):
    """Two workspaces (Shanghai, Berlin) with events on each of the three days before `today`.

    Anchoring runs at `today` 12:00 UTC (the same date in both zones, hours after midnight), so
    what gets anchored does not depend on the time the tests run.
    """
    today = dt.datetime.now(dt.UTC).date()
    days = [today - dt.timedelta(days=n) for n in (3, 2, 1)]
    write = Clock()
    monkeypatch.setattr(suite.audit.recorder, "utcnow", write)
    monkeypatch.setattr(suite.db, "utcnow", write)
    monkeypatch.setattr(
        suite.audit.anchor, "utcnow", Clock(dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC))
    )
    a_tz, b_tz = "Asia/Shanghai", "Europe/Berlin"

    def rename(ws, dept_id: int, name: str) -> None:
        with pg_app.app_context(), use_workspace(ws.id):
            db.session.get(Department, dept_id).name = name
            db.session.commit()

    write.now = noon(days[0], a_tz)
    a = pg_workspace("a", "A 公司", timezone=a_tz)
    a1, a2 = pg_department(a, "A1"), pg_department(a, "A2")
    pg_member(a, "alice", department_id=a1)
    write.now = noon(days[0], b_tz)
    b = pg_workspace("b", "B GmbH", timezone=b_tz)
    b1 = pg_department(b, "B1")
    write.now = noon(days[1], a_tz)
    rename(a, a1, "A1 day-2")  # B has no event on day -2
    write.now = noon(days[2], a_tz)
    rename(a, a1, "A1 day-1")
    rename(a, a2, "A2 day-1")
    write.now = noon(days[2], b_tz)
    rename(b, b1, "B1 day-1")
    write.now = None  # from here on: the real time
    return {"a": a, "b": b, "a_tz": a_tz, "b_tz": b_tz, "a1": a1, "days": days}


def test_anchor_all_writes_one_anchor_per_workspace_day(pg_app, history):
    a, b = history["a"], history["b"]
    with pg_app.app_context(), system():
        assert anchor_all(db.session) == 6
        anchors = list(
            db.session.scalars(
                sa.select(AuditAnchor).order_by(AuditAnchor.workspace_id, AuditAnchor.day)
            )
        )
        events = list(db.session.scalars(sa.select(AuditEvent)))
        days = history["days"]
        for ws, tz in ((a, history["a_tz"]), (b, history["b_tz"])):
            mine = [x for x in anchors if x.workspace_id == ws.id]
            assert [x.day for x in mine] == days
            per_day = Counter(
                local_day(e.occurred_at, tz) for e in events if e.workspace_id == ws.id
            )
            assert [x.events for x in mine] == [per_day.get(d, 0) for d in days]
            assert all(n > 0 for n in per_day.values())
            assert [x.prev_hash for x in mine] == [GENESIS, mine[0].hash, mine[1].hash]
        assert next(x for x in anchors if x.workspace_id == b.id and x.day == days[1]).events == 0
        assert max(Counter((x.workspace_id, x.day) for x in anchors).values()) == 1
        assert verify(db.session) == []

        # Idempotent, and today (still open) is never anchored.
        assert anchor_all(db.session) == 0
        with use_workspace(a.id):
            db.session.get(Department, history["a1"]).name = "A1 today"
            db.session.commit()
        assert anchor_all(db.session) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditAnchor)) == 6
        assert verify(db.session) == []
        db.session.remove()


def test_two_schedulers_anchoring_at_once_write_each_anchor_once(pg_app, history):
    def anchor(_i: int) -> int:
        with system():
            return anchor_all(db.session)

    made = run_threads(pg_app, history["a"].id, 4, anchor)
    assert sum(made) == 6
    with pg_app.app_context(), system():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditAnchor)) == 6
        assert verify(db.session) == []
        db.session.remove()


def test_verify_reports_an_altered_anchor(pg_app, history):
    a = history["a"]
    day = history["days"][1]
    with pg_app.app_context(), system():
        anchor_all(db.session)
        db.session.execute(
            sa.update(AuditAnchor)
            .where(AuditAnchor.workspace_id == a.id, AuditAnchor.day == day)
            .values(heads_hash="f" * 64)
        )
        db.session.commit()
        breaks = verify(db.session)
        db.session.remove()
    assert [b.where for b in breaks] == [f"anchor {a.id}/{day}"]
    assert breaks[0].event_id is None

    result = pg_app.test_cli_runner().invoke(args=["suite", "verify-audit"])
    assert result.exit_code == 1
    assert f"anchor {a.id}/{day}" in result.output


def test_anchors_catch_a_consistently_rewritten_chain(pg_app, history):
    """Rewrite an anchored event and re-hash the rest of its chain: every link holds, the row
    still replays, only the anchors of the days whose heads changed no longer match."""
    a, tz = history["a"], history["a_tz"]
    days = history["days"]
    with pg_app.app_context(), system():
        anchor_all(db.session)
        events = chain_of("department", history["a1"])
        assert [local_day(e.occurred_at, tz) for e in events] == days  # create, day-2, day-1
        table = AuditEvent.__table__
        prev = events[0].hash
        forged = dict(events[1].payload)
        forged["changes"] = {"name": ["A1", "Forged"]}
        for ev, payload in ((events[1], forged), (events[2], events[2].payload)):
            digest = event_hash(prev, header_of(ev), payload)
            db.session.execute(
                table.update()
                .where(table.c.id == ev.id)
                .values(payload=payload, prev_hash=prev, hash=digest)
            )
            prev = digest
        db.session.commit()
        db.session.expire_all()
        assert_linear(chain_of("department", history["a1"]))
        breaks = verify(db.session)
        db.session.remove()
    assert [b.where for b in breaks] == [f"anchor {a.id}/{days[1]}", f"anchor {a.id}/{days[2]}"]
    assert all(b.event_id is None for b in breaks)


def test_a_day_is_anchored_only_after_its_late_transactions_committed(
    pg_app, pg_workspace, pg_department, monkeypatch
):
    """An event stamped 23:59:59 whose transaction commits after midnight belongs to the day
    before: anchoring that day right at midnight would leave it out, and verify() would later
    report the anchor as broken."""
    tz = ZoneInfo("Asia/Shanghai")
    today = dt.datetime.now(tz).date()

    def local(days_ago: int, t: dt.time) -> dt.datetime:
        return dt.datetime.combine(today - dt.timedelta(days=days_ago), t, tzinfo=tz)

    write_clock, anchor_clock = Clock(), Clock()
    monkeypatch.setattr(suite.audit.recorder, "utcnow", write_clock)
    monkeypatch.setattr(suite.audit.anchor, "utcnow", anchor_clock)
    write_clock.now = local(2, dt.time(12))
    ws = pg_workspace("acme")
    dept_id = pg_department(ws, "Sales")

    with pg_app.app_context(), use_workspace(ws.id):  # a writer, busy across midnight
        write_clock.now = local(1, dt.time(23, 59, 59))
        db.session.get(Department, dept_id).name = "Late"
        db.session.flush()
        with pg_app.app_context(), system():  # the scheduler, another session
            anchor_clock.now = local(0, dt.time(0, 0, 30))
            anchor_all(db.session)
            db.session.remove()
        db.session.commit()
        db.session.remove()

    with pg_app.app_context(), system():
        anchor_clock.now = local(0, dt.time(2))
        anchor_all(db.session)
        anchors = {a.day: a.events for a in db.session.scalars(sa.select(AuditAnchor))}
        late = chain_of("department", dept_id)[-1]
        assert local_day(late.occurred_at, "Asia/Shanghai") == today - dt.timedelta(days=1)
        assert anchors[today - dt.timedelta(days=1)] == 1
        assert verify(db.session) == []
        db.session.remove()
