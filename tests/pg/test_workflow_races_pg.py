"""Races of the workflow kernel on PostgreSQL (ARCHITECTURE 4.3-4.4, docs/WORKFLOW.md section 4).

Real concurrency: a crew of processes started with the 'spawn' method, each with its own app
(`tests.conftest.make_app`), its own SQLAlchemy engine and connections, released at the same moment
by a `multiprocessing.Barrier`. The crew is started once for the module and takes work by name
(module-level `_w_*` functions), so the races cost no process start-up per round.

What must hold (the "done when" of the kernel):
1. eight approvals of one open task: one wins, the rest are refused; the same idempotency key
   from eight clicks gives one approval and eight identical answers; two 会签 approvers at once
   complete their node; two submissions of one draft at once start one process;
2. approve vs withdraw: exactly one wins, the final state is consistent;
3. approve vs the escalation timer: never an approval by the original assignee *and* an open
   escalated task;
4. four schedulers over N due timers (SUITE_RACE_TIMERS, default 2,000): each fires once;
5. four outbox drainers over N messages (SUITE_RACE_OUTBOX, default 1,000): each sent once;
6. a worker killed mid-job loses nothing and the job can be run again; a scheduler killed after
   claiming timers leaves them to be fired once after the lease, and one that stalled past its
   lease fires nothing twice.

Timings are printed past pytest's capture (`[races] ...`). Run with throwaway servers:
`python3 scripts/with_services.py -- .venv/bin/python -m pytest tests/pg/test_workflow_races_pg.py`
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import multiprocessing as mp
import os
import queue as queue_mod
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from suite.audit.models import AuditEvent
from suite.audit.verify import verify
from suite.auth.models import Department
from suite.db import db, utcnow
from suite.demo import seed_demo
from suite.notify.models import Notification, OutboxMessage
from suite.requests.models import GeneralRequest
from suite.tenancy import system, use_workspace
from suite.workflow import definitions, engine, timers
from suite.workflow.models import CommandLog, ProcessInstance, WorkflowTask, WorkflowTimer
from suite.workflow.planner import CommandRefused
from tests.conftest import make_app
from tests.suite.workflow_helpers import member, new_request, open_tasks

pytestmark = pytest.mark.pg

SPAWN = mp.get_context("spawn")
CREW = 8  # processes; the races use 2, 4 or all 8 of them
BARRIER_TIMEOUT = 30  # seconds; a party that never arrives breaks the barrier instead of hanging
N_TIMERS = int(os.environ.get("SUITE_RACE_TIMERS", "2000"))
N_OUTBOX = int(os.environ.get("SUITE_RACE_OUTBOX", "1000"))
ROUNDS = int(os.environ.get("SUITE_RACE_ROUNDS", "20"))
ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")
REFUSED_APPROVE = {"task_not_open", "task_changed", "not_running"}


# --- the crew: processes that take work by name ---------------------------------------------------

_BARRIERS: dict[int, Any] = {}  # set in each crew process: parties -> multiprocessing.Barrier


def _crew_main(
    pg_url: str, instance_path: str, inbox: Any, outbox: Any, barriers: dict[int, Any]
) -> None:
    """A crew process: its own app and engine; runs `(name, workspace_id, args)` until None."""
    _BARRIERS.update(barriers)
    app = make_app(pg_url, instance_path)
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # connected and warm before the first race
        db.session.remove()
    outbox.put(("ready", os.getpid()))
    while (msg := inbox.get()) is not None:
        name, workspace_id, args = msg
        try:
            with app.app_context():
                try:
                    with use_workspace(workspace_id):
                        value = globals()[name](*args)
                finally:
                    db.session.remove()
            outbox.put(("ok", value))
        except BaseException:  # reported to the test, which fails with the traceback
            outbox.put(("error", traceback.format_exc()))
    outbox.close()
    outbox.join_thread()
    os._exit(0)  # skip the interpreter's teardown of a big app: seconds for a crew on 2 cores


class Crew:
    def __init__(self, pg_url: str, instance_path: str, size: int = CREW) -> None:
        self.instance_path = instance_path
        self.barriers = {n: SPAWN.Barrier(n, timeout=BARRIER_TIMEOUT) for n in (2, 4, size)}
        self.inboxes = [SPAWN.Queue() for _ in range(size)]
        self.outboxes = [SPAWN.Queue() for _ in range(size)]
        self.procs = [
            SPAWN.Process(
                target=_crew_main,
                args=(pg_url, instance_path, self.inboxes[i], self.outboxes[i], self.barriers),
                name=f"crew-{i}",
                daemon=True,
            )
            for i in range(size)
        ]
        for p in self.procs:
            p.start()
        for i in range(size):
            kind, value = self._answer(i, timeout=120)
            assert kind == "ready", value

    def _answer(self, i: int, timeout: float) -> tuple[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.outboxes[i].get(timeout=0.2)
            except queue_mod.Empty:
                if not self.procs[i].is_alive():
                    return "error", f"crew-{i} died (exit code {self.procs[i].exitcode})"
                if time.monotonic() > deadline:
                    return "error", f"crew-{i} gave no answer in {timeout}s"

    def run(
        self, name: str, workspace_id: int, args: list[tuple[Any, ...]], timeout: float = 180
    ) -> list[Any]:
        """Run `name(*args[i])` in crew process i (all at once); their return values."""
        for i, a in enumerate(args):
            self.inboxes[i].put((name, workspace_id, tuple(a)))
        answers = [self._answer(i, timeout) for i in range(len(args))]
        errors = [f"crew-{i}: {value}" for i, (kind, value) in enumerate(answers) if kind != "ok"]
        if errors:
            for barrier in self.barriers.values():
                barrier.reset()
        assert not errors, "\n".join(errors)
        return [value for _kind, value in answers]

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()
        for q in (*self.inboxes, *self.outboxes):
            q.close()
            q.join_thread()


# --- work run inside crew processes ---------------------------------------------------------------


def _attempt(call: Callable[[], engine.Result]) -> tuple[str, Any]:
    """One command as one transaction: ("ok", result) | ("refused", code) | ("locked", error)."""
    try:
        result = call()
        db.session.commit()
    except CommandRefused as refused:
        db.session.rollback()
        return "refused", refused.code
    except sa.exc.OperationalError as exc:  # lock_timeout (2 s) on the instance row
        db.session.rollback()
        return "locked", type(exc.orig).__name__
    return "ok", dataclasses.asdict(result)


def _w_approve(
    instance_id: int,
    actor: int,
    task_id: int,
    key: str | None,
    parties: int,
    page_read_first: bool,
    retry_locked: bool,
) -> tuple[str, Any, int]:
    """Approve at the barrier; `page_read_first`: the task was loaded in the same session before
    (as a page would), so the snapshot's copy may be stale and only the guarded UPDATE saves us."""
    page = None  # held like a view holds what it rendered (the identity map is weak)
    if page_read_first:
        page = db.session.get(WorkflowTask, task_id)
        assert page.status == "open"
    else:
        db.session.execute(sa.text("SELECT 1"))
    _BARRIERS[parties].wait()
    call = functools.partial(
        engine.command, instance_id, "approve", actor, task_id=task_id, key=key
    )
    tries = 1
    outcome = _attempt(call)
    while outcome[0] == "locked" and retry_locked and tries < 5:  # the client clicks again
        tries += 1
        outcome = _attempt(call)
    del page
    return (*outcome, tries)


def _w_rounds(kind: str, rounds: list[dict[str, Any]], parties: int) -> list[tuple[str, Any]]:
    """Round after round: wait for the other side at the barrier, then run `kind` once."""
    out = []
    for r in rounds:
        if kind == "approve":
            call = functools.partial(
                engine.command,
                r["instance"],
                "approve",
                r["approver"],
                task_id=r["task"],
                key=f"approve-{r['instance']}",
            )
        else:
            call = functools.partial(
                engine.command,
                r["instance"],
                "withdraw",
                r["initiator"],
                key=f"withdraw-{r['instance']}",
            )
        db.session.execute(sa.text("SELECT 1"))
        _BARRIERS[parties].wait()
        if r.get("delay"):
            time.sleep(r["delay"])
        out.append(_attempt(call))
    return out


def _w_escalation_race(role: str, rounds: list[dict[str, Any]], parties: int) -> list[Any]:
    """Race 3: the approver approves (as in `_w_rounds`) while the scheduler, round after round,
    makes the round's escalate timer due and sweeps."""
    if role == "approve":
        return _w_rounds("approve", rounds, parties)
    t = WorkflowTimer.__table__
    fired = []
    for r in rounds:
        db.session.execute(
            sa.update(t)
            .where(t.c.id == r["timer"])
            .values(due_at=utcnow() - dt.timedelta(seconds=1))
        )
        db.session.commit()
        _BARRIERS[parties].wait()
        fired.append(timers.sweep(utcnow()))
    return fired


def _w_sweep_until_done(now: dt.datetime, parties: int) -> dict[str, Any]:
    _BARRIERS[parties].wait()
    started = time.perf_counter()
    fired = sweeps = 0
    while True:
        n = timers.sweep(now)
        sweeps += 1
        fired += n
        if n == 0:
            break
    return {"fired": fired, "sweeps": sweeps, "seconds": time.perf_counter() - started}


def _w_drain_until_done(parties: int) -> dict[str, Any]:
    """drain_all() until nothing is due; records every message this process handed to a sender."""
    from suite.notify import delivery

    sent: list[int] = []
    real_send = delivery.send

    def spy(msg: Any) -> None:
        sent.append(msg.id)
        real_send(msg)

    delivery.send = spy
    try:
        _BARRIERS[parties].wait()
        started = time.perf_counter()
        handled = 0
        while n := delivery.drain_all():
            handled += n
    finally:
        delivery.send = real_send
    return {"handled": handled, "sent": sent, "seconds": time.perf_counter() - started}


def _claim_and_hang(pg_url: str, instance_path: str, now: dt.datetime, out: Any) -> None:
    """A scheduler that claims due timers and dies before firing them (the test kills it)."""
    app = make_app(pg_url, instance_path)
    with app.app_context():
        out.put([row.id for row in timers.claim(now)])
        time.sleep(120)


# --- fixtures and helpers (the test process) ------------------------------------------------------


@pytest.fixture(scope="module")
def crew(pg_app, pg_url, tmp_path_factory, request) -> Iterator[Crew]:
    started = time.perf_counter()
    c = Crew(pg_url, str(tmp_path_factory.mktemp("race-crew") / "instance"))
    _say(
        request.config,
        f"crew: {CREW} spawned processes ready in {time.perf_counter() - started:.1f}s",
    )
    yield c
    started = time.perf_counter()
    c.close()
    _say(request.config, f"crew: stopped in {time.perf_counter() - started:.1f}s")


@pytest.fixture
def say(request) -> Callable[[str], None]:
    return functools.partial(_say, request.config)


def _say(config: Any, msg: str) -> None:
    """Print past pytest's capture (timings are the point of some of these tests)."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print(f"[races] {msg}")
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"[races] {msg}")


@pytest.fixture
def demo(pg_app) -> Iterator[int]:
    """The demo organisation (staff, dept_head, finance, gm, admin...): its workspace id, with
    an app context in that workspace."""
    with pg_app.app_context():
        ws, _ = seed_demo()
        ws_id = ws.id
        with use_workspace(ws_id):
            yield ws_id
            db.session.remove()


def instance_events(instance_id: int, action: str | None = None) -> list[AuditEvent]:
    stmt = (
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity_type == "process_instance",
            AuditEvent.entity_id == str(instance_id),
        )
        .order_by(AuditEvent.seq)
        .execution_options(all_workspaces=True)
    )
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt))


def tasks_of(instance_id: int) -> list[WorkflowTask]:
    return list(
        db.session.scalars(
            sa.select(WorkflowTask)
            .where(WorkflowTask.instance_id == instance_id, WorkflowTask.kind == "approval")
            .order_by(WorkflowTask.id)
        )
    )


def count(stmt: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


# --- 1. double approve ----------------------------------------------------------------------------


def test_eight_processes_approve_one_task_once(crew, demo, say):
    dept_head = member("dept_head").id
    finance = member("finance").id
    req = new_request("staff", "6000.00")  # dept head, then finance
    task = open_tasks(req.instance_id)[0]
    assert task.assignee_id == dept_head
    version = db.session.get(ProcessInstance, req.instance_id).version
    db.session.remove()

    started = time.perf_counter()
    keys = [None if i % 2 == 0 else f"click-{i}" for i in range(CREW)]
    outcomes = crew.run(
        "_w_approve",
        demo,
        [
            (req.instance_id, dept_head, task.id, keys[i], CREW, i % 4 >= 2, False)
            for i in range(CREW)
        ],
    )
    took = time.perf_counter() - started
    kinds = Counter(o[0] for o in outcomes)
    tally = Counter(o[0] if o[0] == "ok" else f"{o[0]}:{o[1]}" for o in outcomes)
    say(f"double approve, distinct keys: {dict(tally)} in {took:.2f}s")
    assert kinds["ok"] == 1, outcomes
    for kind, value, _tries in outcomes:
        if kind == "refused":
            assert value in ("task_not_open", "task_changed"), outcomes
        elif kind == "locked":
            assert value == "LockNotAvailable", outcomes
    winner = next(i for i, o in enumerate(outcomes) if o[0] == "ok")
    assert outcomes[winner][1]["version"] == version + 1

    instance = db.session.get(ProcessInstance, req.instance_id)
    assert (instance.status, instance.version) == ("running", version + 1)  # advanced once
    assert len(instance_events(req.instance_id, "wf.approve")) == 1
    tasks = tasks_of(req.instance_id)
    assert [(t.node, t.status) for t in tasks if t.node == "dept_head"] == [
        ("dept_head", "approved")
    ]
    nxt = [t for t in tasks if t.node == "finance"]  # the next node's tasks, opened once
    assert {t.status for t in nxt} == {"open"} and finance in {t.assignee_id for t in nxt}
    assert len(nxt) == len({t.assignee_id for t in nxt})
    logged = set(
        db.session.scalars(
            sa.select(CommandLog.key).where(
                CommandLog.instance_id == req.instance_id, CommandLog.command == "approve"
            )
        )
    )
    assert logged == ({keys[winner]} if keys[winner] else set())
    assert verify() == []

    # The same key from all eight (one double-clicked button, eight deliveries): one approval,
    # eight identical answers, seven of them replayed.
    same = new_request("staff", "6000.00")
    task = open_tasks(same.instance_id)[0]
    db.session.remove()
    outcomes = crew.run(
        "_w_approve",
        demo,
        [
            (same.instance_id, dept_head, task.id, "one-click", CREW, i % 2 == 1, True)
            for i in range(CREW)
        ],
    )
    say(
        f"double approve, same key: {[o[1]['replayed'] for o in outcomes if o[0] == 'ok']} "
        f"replayed, tries {[o[2] for o in outcomes]}"
    )
    assert [o[0] for o in outcomes] == ["ok"] * CREW, outcomes
    answers = [o[1] for o in outcomes]
    assert sum(a["replayed"] for a in answers) == CREW - 1
    assert len({(a["instance_id"], a["status"], a["version"]) for a in answers}) == 1
    assert len(instance_events(same.instance_id, "wf.approve")) == 1
    assert count(sa.select(CommandLog).where(CommandLog.key == "one-click")) == 1
    tasks = tasks_of(same.instance_id)
    assert [t.status for t in tasks if t.node == "dept_head"] == ["approved"]
    nxt = [t.assignee_id for t in tasks if t.node == "finance" and t.status == "open"]
    assert finance in nxt and len(nxt) == len(set(nxt))
    assert verify() == []


def _w_countersign(instance_id: int, actor: int, parties: int) -> tuple[str, Any]:
    """Approve my task of a 会签 node while holding every task of the instance, as a page that
    lists the approvers does (so the session's copies of the others' tasks may go stale)."""
    page = list(
        db.session.scalars(sa.select(WorkflowTask).where(WorkflowTask.instance_id == instance_id))
    )
    mine = next(t.id for t in page if t.assignee_id == actor and t.status == "open")
    _BARRIERS[parties].wait()
    outcome = _attempt(
        functools.partial(engine.command, instance_id, "approve", actor, task_id=mine)
    )
    del page
    return outcome


def test_two_countersigners_approving_at_once_complete_the_node(crew, demo, say):
    """会签 (mode all): both approve at the same moment; whoever comes second must see the
    first one's approval and complete the node -- never two approvals and a stuck process."""
    definition = definitions.definition_for("suite.general_request")
    countersign = {
        "mode": "all",
        "approvers": [
            {"resolver": "department_head"},
            {"resolver": "role", "role": "suite.finance"},
        ],
    }
    definitions.publish(definition, {"nodes": {"dept_head": countersign}}, by=None)
    db.session.commit()
    signers = [member("dept_head").id, member("finance").id]
    reqs = [new_request("staff", "100.00", title=f"会签 {i}") for i in range(ROUNDS // 2)]
    ids = [r.instance_id for r in reqs]
    for i in ids:
        assert sorted(t.assignee_id for t in open_tasks(i)) == sorted(signers)
    db.session.remove()

    started = time.perf_counter()
    stuck = []
    for instance_id in ids:
        outcomes = crew.run(
            "_w_countersign", demo, [(instance_id, signers[0], 2), (instance_id, signers[1], 2)]
        )
        assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
        instance = db.session.get(ProcessInstance, instance_id)
        if instance.status != "approved":
            stuck.append((instance_id, instance.status, [t.status for t in tasks_of(instance_id)]))
        db.session.remove()
    say(f"countersign: {len(ids)} rounds in {time.perf_counter() - started:.2f}s")
    assert not stuck, f"both approved, the node never completed: {stuck}"
    for instance_id in ids:
        assert len(instance_events(instance_id, "wf.approve")) == 2
        assert len(instance_events(instance_id, "wf.approved")) == 1
    assert verify() == []


def _w_submit(request_id: int, key: str | None, parties: int) -> tuple[str, Any]:
    """Submit a draft request (the page was loaded before: it showed the Submit button)."""
    from suite.errors import DomainError
    from suite.requests import services

    req = db.session.get(GeneralRequest, request_id)
    me = member("staff")
    assert req.status == "draft"
    _BARRIERS[parties].wait()
    try:
        return _attempt(functools.partial(services.submit, req, me, key=key))
    except DomainError:  # the request was already submitted when this one looked
        db.session.rollback()
        return "refused", "already_submitted"


def test_two_submissions_of_one_request_at_once_start_one_process(crew, demo, say):
    """Two tabs (or a double click with two keys) submit the same draft at the same moment:
    one process starts; the other is refused, or given the first answer for the same key."""
    from decimal import Decimal

    from suite.requests import services

    started = time.perf_counter()
    for keys in ((None, None), ("tab-1", "tab-2"), ("click", "click")) * 3:
        req = services.save(
            None, member("staff"), title="Twice", amount=Decimal(100), urgency="normal", reason=""
        )
        db.session.commit()
        request_id = req.id
        db.session.remove()
        scoped = [f"{k}-{request_id}" if k else None for k in keys]
        outcomes = crew.run(
            "_w_submit", demo, [(request_id, scoped[0], 2), (request_id, scoped[1], 2)]
        )
        instances = db.session.scalars(
            sa.select(ProcessInstance.id).where(ProcessInstance.document_id == request_id)
        ).all()
        assert len(instances) == 1, (keys, outcomes)
        assert db.session.get(GeneralRequest, request_id).instance_id == instances[0]
        if keys[0] == keys[1] and keys[0]:
            assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
            assert sorted(o[1]["replayed"] for o in outcomes) == [False, True]
            assert {o[1]["instance_id"] for o in outcomes} == {instances[0]}
        else:
            assert sorted(outcomes) == sorted(
                [
                    ("ok", next(o[1] for o in outcomes if o[0] == "ok")),
                    ("refused", "already_submitted"),
                ]
            ), outcomes
        assert len(open_tasks(instances[0])) == 1
        db.session.remove()
    say(f"double submit: 9 rounds in {time.perf_counter() - started:.2f}s")
    assert verify() == []


# --- 2. approve vs withdraw -----------------------------------------------------------------------


def test_approve_and_withdraw_at_once_exactly_one_wins(crew, demo, say):
    dept_head, staff = member("dept_head").id, member("staff").id
    rounds = []
    for i in range(ROUNDS):
        # Small requests end at the dept head (approve -> approved), larger ones go on to finance.
        req = new_request("staff", "100.00" if i % 2 else "6000.00", title=f"Race {i}")
        task = open_tasks(req.instance_id)[0]
        rounds.append(
            {
                "instance": req.instance_id,
                "request": req.id,
                "task": task.id,
                "approver": dept_head,
                "initiator": staff,
                "delay": (i % 4) * 0.002,  # vary who reaches the lock first
            }
        )
    db.session.remove()

    started = time.perf_counter()
    approvals, withdrawals = crew.run(
        "_w_rounds",
        demo,
        [("approve", rounds, 2), ("withdraw", [dict(r, delay=0) for r in rounds], 2)],
    )
    took = time.perf_counter() - started
    wins = Counter()
    for r, approved, withdrawn in zip(rounds, approvals, withdrawals, strict=True):
        assert [approved[0], withdrawn[0]].count("ok") == 1, (r, approved, withdrawn)  # never both
        instance = db.session.get(ProcessInstance, r["instance"])
        doc = db.session.get(GeneralRequest, r["request"])
        statuses = {t.node: t.status for t in tasks_of(r["instance"])}
        if withdrawn[0] == "ok":
            wins["withdraw"] += 1
            assert approved == ("refused", "not_running"), approved
            assert instance.status == "withdrawn" and doc.status == "draft"
            assert statuses == {"dept_head": "cancelled"}  # no open task left
            assert not instance_events(r["instance"], "wf.approve")
        else:
            wins["approve"] += 1
            assert withdrawn[0] == "refused" and withdrawn[1] in ("already_acted", "not_running")
            assert statuses["dept_head"] == "approved"
            assert len(instance_events(r["instance"], "wf.approve")) == 1
            assert not instance_events(r["instance"], "wf.withdraw")
            if instance.status == "approved":  # the small ones
                assert withdrawn[1] == "not_running" and doc.status == "approved"
                assert "open" not in statuses.values()
            else:
                assert instance.status == "running" and doc.status == "submitted"
                assert statuses == {"dept_head": "approved", "finance": "open"}
    say(f"approve vs withdraw: {ROUNDS} rounds in {took:.2f}s, winners {dict(wins)}")
    assert verify() == []


# --- 3. approve vs escalation timer ---------------------------------------------------------------


def test_approve_while_the_escalation_timer_fires(crew, demo, say):
    dept_head = member("dept_head").id
    manager = member("dept_head").manager_id
    assert manager is not None
    rounds = []
    for i in range(ROUNDS):
        req = new_request("staff", "6000.00", title=f"Escalation race {i}")
        task = open_tasks(req.instance_id)[0]
        timer = db.session.scalar(
            sa.select(WorkflowTimer.id).where(
                WorkflowTimer.task_id == task.id, WorkflowTimer.kind == "escalate"
            )
        )
        rounds.append(
            {
                "instance": req.instance_id,
                "task": task.id,
                "timer": timer,
                "approver": dept_head,
                "delay": (i % 5) * 0.003,
            }
        )
    db.session.remove()

    started = time.perf_counter()
    fired, approvals = crew.run(
        "_w_escalation_race", demo, [("sweep", rounds, 2), ("approve", rounds, 2)]
    )
    took = time.perf_counter() - started
    outcomes = Counter()
    for r, n, approved in zip(rounds, fired, approvals, strict=True):
        original = db.session.get(WorkflowTask, r["task"])
        escalated = [
            t for t in tasks_of(r["instance"]) if t.node == "dept_head" and t.id != r["task"]
        ]
        timer = db.session.get(WorkflowTimer, r["timer"])
        assert timer.status in ("fired", "cancelled"), timer.status
        if approved[0] == "ok":
            outcomes["approved first"] += 1
            assert original.status == "approved"
            assert escalated == [], "approved by the assignee AND escalated"
            assert n == 0 and not instance_events(r["instance"], "wf.escalate")
        else:
            outcomes["escalated first"] += 1
            assert approved[0] == "locked" or approved[1] in REFUSED_APPROVE, approved
            assert original.status == "escalated" and n == 1
            assert [(t.status, t.assignee_id, t.on_behalf_of_id) for t in escalated] == [
                ("open", manager, dept_head)
            ]
            # ...and the manager can approve it.
            result = engine.command(
                r["instance"], "approve", manager, task_id=escalated[0].id, key=f"mgr-{r['task']}"
            )
            db.session.commit()
            assert result.status == "running"
        assert len(instance_events(r["instance"], "wf.approve")) == 1
        assert [t.status for t in tasks_of(r["instance"]) if t.node == "finance"] == ["open"]
    say(f"approve vs escalation: {ROUNDS} rounds in {took:.2f}s, {dict(outcomes)}")
    assert verify() == []


# --- 4. four schedulers over many due timers ------------------------------------------------------


def seed_remind_timers(ws_id: int, n: int) -> list[int]:
    """n running instances, each with an open task and a due remind timer (Core inserts).

    They share one real request (the document a reminder links to) and its process version.
    """
    req = new_request("staff", "6000.00", title="Timer storm")
    base = db.session.get(ProcessInstance, req.instance_id)
    assignee = member("dept_head").id
    now = utcnow()
    pi, wt, tm = (m.__table__ for m in (ProcessInstance, WorkflowTask, WorkflowTimer))
    state = {"active": {"dept_head": {"round": 1, "branch": []}}, "arrived": {}, "round": 1}
    common = {"workspace_id": ws_id}
    with db.engine.begin() as conn:
        instances = (
            conn.execute(
                pi.insert().returning(pi.c.id, sort_by_parameter_order=True),
                [
                    {
                        **common,
                        "version_id": base.version_id,
                        "document_type": base.document_type,
                        "document_id": base.document_id,
                        "title": f"Timer storm {i}",
                        "status": "running",
                        "initiator_id": base.initiator_id,
                        "state": state,
                        "values": base.values,
                        "version": 1,
                        "started_at": now,
                        "moved_at": now,
                    }
                    for i in range(n)
                ],
            )
            .scalars()
            .all()
        )
        tasks = (
            conn.execute(
                wt.insert().returning(wt.c.id, sort_by_parameter_order=True),
                [
                    {
                        **common,
                        "instance_id": i,
                        "node": "dept_head",
                        "kind": "approval",
                        "assignee_id": assignee,
                        "status": "open",
                        "seq": 0,
                        "round": 1,
                        "created_at": now,
                    }
                    for i in instances
                ],
            )
            .scalars()
            .all()
        )
        return list(
            conn.execute(
                tm.insert().returning(tm.c.id, sort_by_parameter_order=True),
                [
                    {
                        **common,
                        "instance_id": i,
                        "task_id": t,
                        "node": "dept_head",
                        "kind": "remind",
                        "due_at": now - dt.timedelta(minutes=1),
                        "status": "pending",
                    }
                    for i, t in zip(instances, tasks, strict=True)
                ],
            ).scalars()
        )


def test_four_schedulers_fire_each_due_timer_once(crew, demo, say):
    started = time.perf_counter()
    ids = seed_remind_timers(demo, N_TIMERS)
    db.session.remove()
    say(
        f"schedulers: seeded {N_TIMERS} instances+tasks+remind timers "
        f"in {time.perf_counter() - started:.2f}s"
    )

    now = utcnow()
    started = time.perf_counter()
    runs = crew.run("_w_sweep_until_done", demo, [(now, 4)] * 4, timeout=600)
    took = time.perf_counter() - started
    say(
        f"schedulers: 4 processes fired {N_TIMERS} timers in {took:.2f}s "
        f"({N_TIMERS / took:.0f}/s); per process {[r['fired'] for r in runs]}"
    )
    assert sum(r["fired"] for r in runs) == N_TIMERS
    t = WorkflowTimer
    statuses = dict(
        db.session.execute(
            sa.select(t.status, sa.func.count()).where(t.id.in_(ids)).group_by(t.status)
        ).all()
    )
    assert statuses == {"fired": N_TIMERS}
    assert count(sa.select(AuditEvent).where(AuditEvent.action == "wf.remind")) == N_TIMERS
    keys = db.session.scalars(sa.select(CommandLog.key).where(CommandLog.key.like("timer:%"))).all()
    assert len(keys) == len(set(keys)) == N_TIMERS
    assert set(keys) == {f"timer:{i}" for i in ids}
    # every reminder told its assignee once: one in-app and one e-mail message per timer
    reminders = count(sa.select(OutboxMessage).where(OutboxMessage.event == "remind"))
    assert reminders == 2 * N_TIMERS


# --- 5. four outbox drainers ----------------------------------------------------------------------


def test_four_drainers_send_each_message_once(crew, demo, say):
    recipient = member("dept_head")
    assert recipient.user.email
    now = utcnow()
    common = {
        "workspace_id": demo,
        "recipient_id": recipient.id,
        "event": "race",
        "body": "body",
        "link": "/requests/1",
        "payload": {},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now - dt.timedelta(seconds=1),
        "created_at": now,
    }
    t = OutboxMessage.__table__
    rows = [
        {
            **common,
            "channel": "email" if i % 2 else "in_app",
            "address": recipient.user.email if i % 2 else None,
            "subject": f"Message {i}",
        }
        for i in range(N_OUTBOX)
    ]
    mail = Path(crew.instance_path) / "mail"
    for f in mail.glob("*.eml"):
        f.unlink()
    with db.engine.begin() as conn:
        ids = conn.execute(
            t.insert().returning(t.c.id, t.c.channel, sort_by_parameter_order=True), rows
        ).all()
    db.session.remove()
    in_app = {i for i, channel in ids if channel == "in_app"}
    email = {i for i, channel in ids if channel == "email"}
    pending = count(sa.select(OutboxMessage).where(OutboxMessage.status == "pending"))
    assert pending == N_OUTBOX  # nothing else is waiting

    started = time.perf_counter()
    runs = crew.run("_w_drain_until_done", demo, [(4,)] * 4, timeout=600)
    took = time.perf_counter() - started
    say(
        f"drainers: 4 processes delivered {N_OUTBOX} messages in {took:.2f}s "
        f"({N_OUTBOX / took:.0f}/s); handled per process {[r['handled'] for r in runs]}"
    )
    assert sum(r["handled"] for r in runs) == N_OUTBOX
    sent = [i for r in runs for i in r["sent"]]
    assert len(sent) == len(set(sent)) and set(sent) == email  # each e-mail handed over once
    files = {int(p.name.removeprefix("outbox-").removesuffix(".eml")) for p in mail.glob("*.eml")}
    assert files == email
    notes = db.session.scalars(
        sa.select(Notification.outbox_message_id).execution_options(all_workspaces=True)
    ).all()
    assert len(notes) == len(set(notes)) and set(notes) == in_app
    states = db.session.execute(
        sa.select(OutboxMessage.status, OutboxMessage.attempts, sa.func.count()).group_by(
            OutboxMessage.status, OutboxMessage.attempts
        )
    ).all()
    assert [tuple(s) for s in states] == [("sent", 1, N_OUTBOX)]


# --- 6. killed mid-job / mid-sweep ----------------------------------------------------------------


def committed_departments(url: str, name: str) -> int:
    from sqlalchemy.pool import NullPool

    eng = sa.create_engine(url, poolclass=NullPool)
    try:
        with eng.connect() as conn:
            return conn.scalar(
                sa.text("SELECT count(*) FROM department WHERE name = :n"), {"n": name}
            )
    finally:
        eng.dispose()


@pytest.mark.redis
def test_a_worker_killed_mid_job_loses_nothing_and_the_job_runs_again(
    pg_app, pg_url, redis_url, pg_workspace, tmp_path, monkeypatch, say
):
    from rq.job import JobStatus
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    from suite.jobs import enqueue

    ws = pg_workspace("acme")
    name, marker = "Written by a doomed job", tmp_path / "job-started"
    monkeypatch.setitem(pg_app.config, "SUITE_REDIS_URL", redis_url)
    with pg_app.app_context(), use_workspace(ws.id):
        job = enqueue("tests.pg.jobs_helper:create_department_slowly", name, str(marker), 5)
    env = {
        **os.environ,
        "SUITE_DATABASE_URL": pg_url,
        "SUITE_REDIS_URL": redis_url,
        "SUITE_INSTANCE_PATH": str(tmp_path / "instance"),
        "SUITE_SECRET_KEY": "worker-test",
    }
    worker = [str(FLASK), "--app", "suite.app:create_app", "suite", "worker"]
    started = time.perf_counter()
    log = tmp_path / "worker.log"
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(worker, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while not marker.exists():  # the job has flushed its write and sleeps
                    assert proc.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.05)
                assert job.get_status(refresh=True) == JobStatus.STARTED
                assert committed_departments(pg_url, name) == 0
                os.kill(proc.pid, signal.SIGKILL)
            finally:
                proc.kill()
                proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        killed_after = time.perf_counter() - started
        # Nothing of the job's transaction survives: no department, no audit event for one.
        assert committed_departments(pg_url, name) == 0
        with pg_app.app_context(), system():
            assert count(sa.select(Department).where(Department.name == name)) == 0
            db.session.remove()
        assert job.get_status(refresh=True) == JobStatus.STARTED  # abandoned, not lost

        # Recovery: once its execution entry expires, the started registry's cleanup moves the
        # abandoned job to the failed registry (as any worker's maintenance would); requeue it.
        started_reg = StartedJobRegistry(job.origin, connection=job.connection)
        entries = job.connection.zrange(started_reg.key, 0, -1, withscores=True)
        assert len(entries) == 1
        started_reg.cleanup(timestamp=entries[0][1] + 1)
        failed = FailedJobRegistry(job.origin, connection=job.connection)
        assert job.id in failed.get_job_ids()
        assert job.get_status(refresh=True) == JobStatus.FAILED
        failed.requeue(job.id)
        assert job.get_status(refresh=True) == JobStatus.QUEUED

        again = subprocess.run(
            [*worker, "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert job.get_status(refresh=True) == JobStatus.FINISHED
        assert committed_departments(pg_url, name) == 1  # exactly one write
        assert len(marker.read_text().split()) == 2  # two attempts, one of them committed
        with pg_app.app_context(), system():
            dept = db.session.scalar(sa.select(Department).where(Department.name == name))
            assert dept.id == job.return_value(refresh=True)
            events = db.session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.entity_type == "department", AuditEvent.entity_id == str(dept.id))
                .execution_options(all_workspaces=True)
            ).all()
            assert events == ["create"]
            assert verify() == []
            db.session.remove()
        say(
            f"killed worker: killed {killed_after:.1f}s after start, recovered and re-run in "
            f"{time.perf_counter() - started:.1f}s total"
        )
    finally:
        job.connection.close()


def test_a_scheduler_whose_lease_ran_out_fires_nothing_twice(demo):
    """A scheduler stalls after claiming (GC pause, slow network) beyond the lease: another one
    takes its timers over and fires them; when the first wakes up, its firing is a replay."""
    instance_id = new_request("staff", "6000.00").instance_id
    task = open_tasks(instance_id)[0]
    due = db.session.scalar(
        sa.select(WorkflowTimer.due_at).where(
            WorkflowTimer.task_id == task.id, WorkflowTimer.kind == "remind"
        )
    )
    now = due + dt.timedelta(seconds=1)
    slow = timers.claim(now)
    assert [row.kind for row in slow] == ["remind"]
    later = now + timers.LEASE + dt.timedelta(seconds=1)
    assert timers.sweep(later) == 1  # taken over after the lease
    assert [timers.fire(row, now) for row in slow] == [False]  # replayed: nothing fired again
    db.session.remove()
    assert len(instance_events(instance_id, "wf.remind")) == 1
    reminders = sa.select(OutboxMessage).where(OutboxMessage.event == "remind")
    assert count(reminders.where(OutboxMessage.channel == "in_app")) == 1
    assert db.session.get(WorkflowTimer, slow[0].id).status == "fired"


def test_a_scheduler_killed_after_claiming_leaves_timers_for_after_the_lease(
    crew, pg_url, demo, say
):
    reqs = [new_request("staff", "6000.00", title=f"Claimed {i}") for i in range(3)]
    task_ids = [open_tasks(r.instance_id)[0].id for r in reqs]
    due = dict(
        db.session.execute(
            sa.select(WorkflowTimer.kind, sa.func.max(WorkflowTimer.due_at))
            .where(WorkflowTimer.task_id.in_(task_ids))
            .group_by(WorkflowTimer.kind)
        ).all()
    )
    reminders = set(
        db.session.scalars(
            sa.select(WorkflowTimer.id).where(
                WorkflowTimer.task_id.in_(task_ids), WorkflowTimer.kind == "remind"
            )
        )
    )
    now = due["remind"] + dt.timedelta(seconds=1)  # the reminders are due, the escalations not
    assert now + timers.LEASE + dt.timedelta(seconds=2) < min(
        db.session.scalars(
            sa.select(WorkflowTimer.due_at).where(
                WorkflowTimer.task_id.in_(task_ids), WorkflowTimer.kind == "escalate"
            )
        )
    )
    db.session.remove()

    out = SPAWN.Queue()
    doomed = SPAWN.Process(
        target=_claim_and_hang, args=(pg_url, crew.instance_path, now, out), daemon=True
    )
    doomed.start()
    try:
        claimed = out.get(timeout=60)
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.join(timeout=30)
        out.close()
        out.join_thread()
    assert doomed.exitcode == -signal.SIGKILL
    assert set(claimed) == reminders
    status = dict(
        db.session.execute(
            sa.select(WorkflowTimer.id, WorkflowTimer.status).where(WorkflowTimer.id.in_(claimed))
        ).all()
    )
    assert set(status.values()) == {"firing"}
    db.session.remove()

    # Within the lease nobody takes them over...
    assert timers.sweep(now) == 0
    assert timers.sweep(now + timers.LEASE - dt.timedelta(seconds=1)) == 0
    # ...after it, four schedulers at once fire each exactly once.
    later = now + timers.LEASE + dt.timedelta(seconds=1)
    runs = crew.run("_w_sweep_until_done", demo, [(later, 4)] * 4)
    assert sum(r["fired"] for r in runs) == len(reminders)
    assert timers.sweep(later) == 0
    db.session.remove()
    statuses = db.session.scalars(
        sa.select(WorkflowTimer.status).where(WorkflowTimer.id.in_(claimed))
    ).all()
    assert statuses == ["fired"] * len(reminders)
    for r in reqs:
        assert len(instance_events(r.instance_id, "wf.remind")) == 1
    keys = db.session.scalars(sa.select(CommandLog.key).where(CommandLog.key.like("timer:%"))).all()
    assert sorted(keys) == sorted(f"timer:{i}" for i in claimed)
    assert verify() == []
    say(f"killed scheduler: {len(claimed)} claimed timers fired once after the lease")
