"""Per-approval cost of the workflow kernel in one process: SQL statements and CPU time.

    SUITE_BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/kernel_profile.py
    .venv/bin/python bench/kernel_profile.py --n 200 --top 30      # cProfile, top 30 by tottime

Seeds the demo org (the database is reset), submits `--n` general requests, then approves them
as the department head the way `bench/kernel.py` does (one command + commit each), counting
statements and measuring this process's CPU time (wall time too, but the machine may be shared).
Prints `statements_per_approval`, `cpu_ms_per_approval`, with `--show-sql` the statements of one
approval, and with `--top` a cProfile (CPU time) of the approvals. Then each approval is sent once more, as the
loser of bench/kernel.py's race would: `cpu_ms_per_refused`, `statements_per_refused`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.kernel import database_url, make_app, reset  # noqa: E402


def backend_cpu(pid: int) -> float | None:
    """CPU seconds of a PostgreSQL backend on this machine (None when /proc does not tell)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="approvals measured")
    parser.add_argument("--top", type=int, default=0, help="cProfile lines to print")
    parser.add_argument("--show-sql", action="store_true", help="print one approval's SQL")
    args = parser.parse_args()
    url = database_url()
    reset(url)

    import sqlalchemy as sa

    from suite.auth.models import Membership, User
    from suite.db import db
    from suite.demo import seed_demo
    from suite.requests import services
    from suite.tenancy import use_workspace
    from suite.workflow import engine
    from suite.workflow.models import WorkflowTask
    from suite.workflow.planner import CommandRefused

    app = make_app(url)
    with app.app_context():
        ws, _ = seed_demo()
        with use_workspace(ws.id):
            staff = db.session.scalar(sa.select(Membership).join(User).where(User.login == "staff"))
            head = db.session.scalar(
                sa.select(Membership.id).join(User).where(User.login == "dept_head")
            )
            for i in range(args.n + 5):
                req = services.save(
                    None, staff, title=f"Profile {i}", amount=100, urgency="normal", reason=""
                )
                services.submit(req, staff)
                db.session.commit()
            work = db.session.execute(
                sa.select(WorkflowTask.instance_id, WorkflowTask.id)
                .where(WorkflowTask.status == "open", WorkflowTask.kind == "approval")
                .order_by(WorkflowTask.id)
            ).all()
            db.session.commit()
            warm, work = work[:5], work[5 : 5 + args.n]
            for instance_id, task_id in warm:  # caches, compiled statements
                engine.command(instance_id, "approve", head, task_id=task_id)
                db.session.commit()

            statements: list[str] = []

            def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
                statements.append(statement)

            backend = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            server0 = backend_cpu(backend)
            sa.event.listen(db.engine, "before_cursor_execute", count)
            # CPU time, not wall time: waiting for PostgreSQL (or for a busy machine) is not ours.
            profiler = cProfile.Profile(time.process_time) if args.top else None
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for instance_id, task_id in work:
                engine.command(instance_id, "approve", head, task_id=task_id)
                db.session.commit()
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            server1 = backend_cpu(backend)
            approvals = len(statements)
            # The race's loser (bench/kernel.py): the same approval again, refused.
            cpu0 = time.process_time()
            if profiler:
                profiler.enable()
            for instance_id, task_id in work:
                try:
                    engine.command(instance_id, "approve", head, task_id=task_id)
                except CommandRefused:
                    db.session.rollback()
            if profiler:
                profiler.disable()
            refused = time.process_time() - cpu0
            server2 = backend_cpu(backend)
            sa.event.remove(db.engine, "before_cursor_execute", count)
    n = len(work)
    print(f"approvals={n}")
    print(f"statements_per_approval={approvals / n:.2f}")
    print(f"statements_per_refused={(len(statements) - approvals) / n:.2f}")
    print(f"cpu_ms_per_approval={cpu * 1000 / n:.2f}")
    print(f"wall_ms_per_approval={wall * 1000 / n:.2f}  (CPU + waiting for PostgreSQL)")
    print(f"cpu_ms_per_refused={refused * 1000 / n:.2f}")
    if server0 is not None and server2 is not None:
        print(
            f"server_cpu_ms_per_approval={(server1 - server0) * 1000 / n:.2f}  (PostgreSQL backend)"
        )
        print(f"server_cpu_ms_per_refused={(server2 - server1) * 1000 / n:.2f}")
    if args.show_sql:
        per = round(approvals / n)
        for s in statements[approvals - per : approvals]:
            print("  ", " ".join(s.split())[:160])
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
