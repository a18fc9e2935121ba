"""Workflow kernel benchmark on PostgreSQL: transitions, races, inbox at scale, timers.

    make bench-kernel                       # throwaway PostgreSQL (scripts/with_services.py)
    SUITE_BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/kernel.py --tasks 1000000

Prints one `name=value` line per measure (and a summary table):
  transitions_per_s  approvals committed per second by --workers processes, every instance
                     raced by two workers at once (the loser is refused)
  p95_ms             95th percentile latency of a committed approval
  duplicates         instances approved more than once (must be 0)
  inbox_p95_ms       p95 SQL time of the inbox "to do" page + count at --tasks task rows
  timer_fired_once   1 when every one of --timers due timers fired exactly once with two
                     schedulers sweeping at the same time
The database is reset: never point it at data you want to keep.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


TIMER_TARGETS = 500  # requests kept open for the timer measure


def database_url() -> str:
    url = os.environ.get("SUITE_BENCH_DATABASE_URL") or os.environ.get("SUITE_TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        sys.exit(
            "bench-kernel needs PostgreSQL: set SUITE_BENCH_DATABASE_URL (or run `make bench-kernel`)"
        )
    return url


def make_app(url: str):
    os.environ["SUITE_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="bench-")
    from suite.app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 4},
        }
    )


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[94]
        if len(values) > 1
        else values[0]
    )


# --- setup ----------------------------------------------------------------------------------------


def reset(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    app = make_app(url)
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def seed(url: str, instances: int) -> tuple[int, list[tuple[int, int]]]:
    """The demo org and `instances` submitted requests waiting for the department head."""
    from decimal import Decimal

    import sqlalchemy as sa

    from suite.db import db
    from suite.demo import seed_demo
    from suite.requests import services
    from suite.tenancy import use_workspace
    from suite.workflow.models import WorkflowTask

    app = make_app(url)
    with app.app_context():
        ws, _ = seed_demo()
        with use_workspace(ws.id):
            from suite.auth.models import Membership, User

            staff = db.session.scalar(sa.select(Membership).join(User).where(User.login == "staff"))
            for i in range(instances):
                req = services.save(
                    None,
                    staff,
                    title=f"Bench {i}",
                    amount=Decimal("100.00"),
                    urgency="normal",
                    reason="",
                )
                services.submit(req, staff)
                if i % 200 == 199:
                    db.session.commit()
            db.session.commit()
            rows = db.session.execute(
                sa.select(WorkflowTask.instance_id, WorkflowTask.id).where(
                    WorkflowTask.status == "open", WorkflowTask.kind == "approval"
                )
            ).all()
        return ws.id, [(r[0], r[1]) for r in rows]


# --- transitions ----------------------------------------------------------------------------------


def approver(args: tuple) -> tuple[list[float], int, int]:
    url, ws_id, work, barrier = args
    import sqlalchemy as sa
    from sqlalchemy.exc import OperationalError

    from suite.auth.models import Membership, User
    from suite.db import db
    from suite.tenancy import use_workspace
    from suite.workflow import engine
    from suite.workflow.planner import CommandRefused

    app = make_app(url)
    latencies: list[float] = []
    refused = errors = 0
    with app.app_context(), use_workspace(ws_id):
        head = db.session.scalar(
            sa.select(Membership.id).join(User).where(User.login == "dept_head")
        )
        db.session.commit()
        barrier.wait()
        for instance_id, task_id in work:
            started = time.perf_counter()
            try:
                engine.command(instance_id, "approve", head, task_id=task_id)
                db.session.commit()
                latencies.append((time.perf_counter() - started) * 1000)
            except CommandRefused:
                db.session.rollback()
                refused += 1
            except OperationalError:
                db.session.rollback()
                errors += 1
    return latencies, refused, errors


def transitions(url: str, ws_id: int, work: list[tuple[int, int]], workers: int) -> dict:
    import sqlalchemy as sa

    # Every instance goes to two workers (its own share and the next one's): they race for it.
    shares = [
        [w for i, w in enumerate(work) if i % workers in (k, (k + 1) % workers)]
        for k in range(workers)
    ]
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(workers + 1)
        with ctx.Pool(workers) as pool:
            pending = pool.map_async(approver, [(url, ws_id, s, barrier) for s in shares])
            barrier.wait()
            started = time.perf_counter()
            results = pending.get()
            elapsed = time.perf_counter() - started
    latencies = [x for r in results for x in r[0]]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        duplicates = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT entity_id FROM audit_event WHERE action = 'wf.approve' "
                "GROUP BY entity_id HAVING count(*) > 1) d"
            )
        ).scalar_one()
        approved = conn.execute(
            sa.text("SELECT count(*) FROM process_instance WHERE status = 'approved'")
        ).scalar_one()
    engine.dispose()
    return {
        "transitions_per_s": round(len(latencies) / elapsed, 1),
        "p95_ms": round(p95(latencies), 2),
        "duplicates": duplicates,
        "approved": approved,
        "refused": sum(r[1] for r in results),
        "lock_errors": sum(r[2] for r in results),
    }


# --- inbox at scale -------------------------------------------------------------------------------


def fill_tasks(url: str, ws_id: int, total: int) -> None:
    """`total` task rows (10 % open) over 2,000 assignees, written with COPY."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        cur = conn.cursor()
        version_id = cur.execute("SELECT id FROM process_version LIMIT 1").fetchone()[0]
        members = 2000
        existing = cur.execute("SELECT count(*) FROM membership").fetchone()[0]
        with cur.copy(
            'COPY "user" (login, display_name, password_hash, active, auth_version, created_at) FROM STDIN'
        ) as cp:
            for i in range(members - existing):
                cp.write_row((f"bench{i}", f"Bench {i}", "x", True, 1, "2026-01-01"))
        cur.execute(
            "INSERT INTO membership (workspace_id, user_id, active, created_at) "
            "SELECT %s, id, true, now() FROM \"user\" WHERE login LIKE 'bench%%'",
            (ws_id,),
        )
        member_ids = [r[0] for r in cur.execute("SELECT id FROM membership").fetchall()]
        instances = max(1, total // 100)
        with cur.copy(
            "COPY process_instance (workspace_id, version_id, document_type, document_id, title, "
            'status, initiator_id, state, "values", version, started_at, moved_at) FROM STDIN'
        ) as cp:
            for i in range(instances):
                cp.write_row(
                    (
                        ws_id,
                        version_id,
                        "suite.general_request",
                        i + 1_000_000,
                        f"Bench {i}",
                        "running",
                        member_ids[i % len(member_ids)],
                        "{}",
                        "{}",
                        1,
                        "2026-01-01",
                        "2026-01-01",
                    )
                )
        first = cur.execute(
            "SELECT min(id) FROM process_instance WHERE document_id >= 1000000"
        ).fetchone()[0]
        with cur.copy(
            "COPY workflow_task (workspace_id, instance_id, node, kind, assignee_id, status, seq, "
            "round, created_at) FROM STDIN"
        ) as cp:
            for i in range(total):
                status = "open" if i % 10 == 0 else "approved"
                cp.write_row(
                    (
                        ws_id,
                        first + i % instances,
                        "dept_head",
                        "approval",
                        member_ids[i % len(member_ids)],
                        status,
                        0,
                        1,
                        "2026-01-01",
                    )
                )
        conn.commit()
        cur.execute("ANALYZE workflow_task")
        conn.commit()


def inbox(url: str, ws_id: int, samples: int = 300) -> dict:
    """SQL time of the inbox page: my open tasks newest first (keyset) plus the tab count."""
    import random

    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    times: list[float] = []
    with psycopg.connect(dsn) as conn:
        cur = conn.cursor()
        members = [r[0] for r in cur.execute("SELECT id FROM membership").fetchall()]
        rng = random.Random(7)
        for _ in range(samples):
            member = rng.choice(members)
            started = time.perf_counter()
            cur.execute(
                "SELECT t.id, t.node, t.created_at, i.title FROM workflow_task t "
                "JOIN process_instance i ON i.id = t.instance_id "
                "WHERE t.workspace_id = %s AND t.assignee_id = %s AND t.status = 'open' "
                "ORDER BY t.id DESC LIMIT 25",
                (ws_id, member),
            )
            cur.fetchall()
            cur.execute(
                "SELECT count(*) FROM workflow_task WHERE workspace_id = %s AND assignee_id = %s "
                "AND status = 'open'",
                (ws_id, member),
            )
            cur.fetchone()
            times.append((time.perf_counter() - started) * 1000)
        plan = "\n".join(
            r[0]
            for r in cur.execute(
                "EXPLAIN SELECT id FROM workflow_task WHERE workspace_id = 1 AND assignee_id = 1 "
                "AND status = 'open' ORDER BY id DESC LIMIT 25"
            ).fetchall()
        )
    return {
        "inbox_p95_ms": round(p95(times), 2),
        "inbox_plan_uses_partial_index": int("ix_workflow_task_open_assignee" in plan),
    }


# --- timers ---------------------------------------------------------------------------------------


def sweeper(args: tuple) -> int:
    url, barrier = args
    from suite.db import utcnow
    from suite.workflow.timers import sweep

    app = make_app(url)
    fired = 0
    with app.app_context():
        barrier.wait()
        while True:
            n = sweep(utcnow(), batch=100)
            if n == 0:
                break
            fired += n
    return fired


def timers(
    url: str, ws_id: int, targets: list[tuple[int, int]], count: int, schedulers: int = 2
) -> dict:
    """`count` due remind timers spread over the open tasks of `targets`, swept by two schedulers."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        cur = conn.cursor()
        cur.execute("UPDATE workflow_timer SET status = 'cancelled' WHERE status = 'pending'")
        with cur.copy(
            "COPY workflow_timer (workspace_id, instance_id, task_id, node, kind, due_at, status) "
            "FROM STDIN"
        ) as cp:
            for i in range(count):
                instance_id, task_id = targets[i % len(targets)]
                cp.write_row(
                    (ws_id, instance_id, task_id, "dept_head", "remind", "2026-01-01", "pending")
                )
        conn.commit()
    ctx = mp.get_context("spawn")
    started = time.perf_counter()
    with ctx.Manager() as manager:
        barrier = manager.Barrier(schedulers)
        with ctx.Pool(schedulers) as pool:
            fired = pool.map(sweeper, [(url, barrier)] * schedulers)
    elapsed = time.perf_counter() - started
    with psycopg.connect(dsn) as conn:
        cur = conn.cursor()
        done = cur.execute(
            "SELECT count(*) FROM workflow_timer WHERE status = 'fired' AND kind = 'remind'"
        ).fetchone()[0]
        keys = cur.execute(
            "SELECT count(DISTINCT key), count(*) FROM command_log WHERE key LIKE 'timer:%%'"
        ).fetchone()
    once = int(done == count and sum(fired) == count and keys[0] == keys[1] == count)
    return {
        "timer_fired_once": once,
        "timers": count,
        "timers_per_s": round(count / elapsed, 1),
        "timer_fired_per_scheduler": "/".join(map(str, fired)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=2000, help="requests raced by the workers")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--tasks", type=int, default=1_000_000, help="task rows for the inbox measure"
    )
    parser.add_argument("--timers", type=int, default=50_000)
    args = parser.parse_args()
    url = database_url()
    out: dict[str, object] = {}
    t0 = time.perf_counter()
    reset(url)
    ws_id, work = seed(url, args.instances + TIMER_TARGETS)
    work, targets = work[: args.instances], work[args.instances :]
    print(
        f"# seeded {len(work) + len(targets)} submitted requests in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    out.update(transitions(url, ws_id, work, args.workers))
    print(f"# transitions done at {time.perf_counter() - t0:.1f}s", flush=True)
    out.update(timers(url, ws_id, targets, args.timers))
    print(f"# timers done at {time.perf_counter() - t0:.1f}s", flush=True)
    fill_tasks(url, ws_id, args.tasks)
    print(f"# {args.tasks} tasks written at {time.perf_counter() - t0:.1f}s", flush=True)
    out.update(inbox(url, ws_id))
    out["workers"] = args.workers
    out["tasks"] = args.tasks
    for key, value in out.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
