"""`bench/web.py --explain`: the SQL one request of each page runs, with EXPLAIN ANALYZE.

In-process (Flask test client, logged in like a browser), one warm-up request per page, then one
request recorded: statement count, SQL time, request time, and the plans of the slowest statements.
"""

from __future__ import annotations

import re
import time
from typing import Any

import sqlalchemy as sa

SLOWEST = 3


def _login(client: Any, login: str, password: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    tag = re.search(r"<input[^>]*name=\"csrf_token\"[^>]*>", html)
    token = re.search(r"value=\"([^\"]+)\"", tag.group(0)) if tag else None
    if token is None:
        raise SystemExit("--explain: no CSRF token on /login")
    resp = client.post(
        "/login", data={"csrf_token": token.group(1), "login": login, "password": password}
    )
    if resp.status_code != 303:
        raise SystemExit(f"--explain: login as {login!r} answered {resp.status_code}")


def explain_pages(
    url: str,
    instance: str,
    login: str,
    ids: tuple[int, int],
    pages: list[tuple[str, str, str | None]],
) -> None:
    """Print each page's statements and the EXPLAIN ANALYZE of its slowest ones."""
    from bench.web import make_app
    from suite.db import db
    from suite.demo import DEMO_PASSWORD

    app = make_app(url, instance)
    client = app.test_client()
    _login(client, login, DEMO_PASSWORD)
    recorded: list[tuple[float, str, Any]] = []
    starts: list[float] = []

    with app.app_context():
        engine = db.engine

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool):
        starts.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool):
        recorded.append(((time.perf_counter() - starts.pop()) * 1000, statement, params))

    for name, path, pattern in pages:
        target = pattern % ((ids[0] + ids[1]) // 2) if pattern else path
        client.get(target)
        recorded.clear()
        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "after_cursor_execute", after)
        started = time.perf_counter()
        try:
            status = client.get(target).status_code
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)
            sa.event.remove(engine, "after_cursor_execute", after)
        took = (time.perf_counter() - started) * 1000
        sql_ms = sum(r[0] for r in recorded)
        print(
            f"explain page={name} url={target} status={status} statements={len(recorded)} "
            f"sql_ms={sql_ms:.2f} request_ms={took:.2f}"
        )
        groups: dict[str, list[float]] = {}
        for ms, statement, _params in recorded:  # the same SQL again and again: an N+1 query
            groups.setdefault(" ".join(statement.split()), []).append(ms)
        for text, times in groups.items():
            print(f"#   {len(times):3d}x {sum(times):7.2f} ms  {text[:150]}")
        for ms, statement, params in sorted(recorded, key=lambda r: -r[0])[:SLOWEST]:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            print(f"# slowest ({ms:.2f} ms): {' '.join(statement.split())}")
            with engine.connect() as conn:
                raw = conn.connection.driver_connection
                with raw.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params or None)
                    for (line,) in cur.fetchall():
                        print(f"#     {line}")
                raw.rollback()


def profile_pages(
    url: str,
    instance: str,
    login: str,
    ids: tuple[int, int],
    pages: list[tuple[str, str, str | None]],
    requests: int,
    top: int = 25,
) -> None:
    """cProfile of `requests` in-process requests per page: where the Python time goes."""
    import cProfile
    import io
    import pstats

    from bench.web import make_app
    from suite.demo import DEMO_PASSWORD

    app = make_app(url, instance)
    client = app.test_client()
    _login(client, login, DEMO_PASSWORD)
    for name, path, pattern in pages:
        step = max(1, (ids[1] - ids[0]) // max(requests, 1))
        targets = [pattern % (ids[0] + i * step) if pattern else path for i in range(requests)]
        client.get(targets[0])
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for target in targets:
            client.get(target)
        profiler.disable()
        took = (time.perf_counter() - started) * 1000 / requests
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)
        print(f"profile page={name} requests={requests} ms_per_request={took:.2f} (profiled)")
        for line in out.getvalue().splitlines():
            if line.strip():
                print(f"#   {line}")


def _backend_cpu_ms(pids: set[int]) -> float | None:
    """CPU time (user + system) of these PostgreSQL backends from /proc; None when unreadable
    (a server on another host)."""
    import os

    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_pages(
    url: str,
    instance: str,
    login: str,
    ids: tuple[int, int],
    pages: list[tuple[str, str, str | None]],
    requests: int,
    rounds: int = 8,
) -> None:
    """CPU time per in-process request: this process's and its PostgreSQL backends'.

    Wall-clock numbers move 2-3x with other people's runs on a shared machine; CPU time much
    less. The bare page (bench/bare_app.py) runs in the same process, in batches of `requests`
    interleaved with each page's, so `x_bare` (median of the per-round ratios) compares pages
    measured under the same load. Detail ids are random over the whole table.
    """
    import random
    import statistics

    from bench.bare_app import create_app as bare_app
    from bench.web import make_app
    from suite.db import db
    from suite.demo import DEMO_PASSWORD

    app = make_app(url, instance)
    bare = bare_app(url)
    pids: set[int] = set()

    def remember(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pids.add(cur.fetchone()[0])
        dbapi_conn.commit()

    with app.app_context():
        sa.event.listen(db.engine, "connect", remember)
    with bare.app_context():
        from bench.bare_app import db as bare_db

        sa.event.listen(bare_db.engine, "connect", remember)
    client = app.test_client()
    _login(client, login, DEMO_PASSWORD)
    bare_client = bare.test_client()
    rnd = random.Random(1)
    runs = [("bare", bare_client, lambda: "/")]
    for name, path, pattern in pages:
        target = (
            (lambda p=pattern: p % rnd.randint(ids[0], ids[1])) if pattern else (lambda p=path: p)
        )
        runs.append((name, client, target))
    app_ms: dict[str, list[float]] = {name: [] for name, _c, _t in runs}
    pg_ms: dict[str, list[float]] = {name: [] for name, _c, _t in runs}

    def batch(name: str, test_client: Any, target: Any) -> None:
        pg_before = _backend_cpu_ms(pids)
        started = time.process_time()
        for _ in range(requests):
            status = test_client.get(target()).status_code
            if status != 200:
                raise SystemExit(f"--cpu: {name} answered {status}")
        app_ms[name].append((time.process_time() - started) * 1000 / requests)
        pg_after = _backend_cpu_ms(pids)
        if pg_before is not None and pg_after is not None:
            pg_ms[name].append((pg_after - pg_before) / requests)

    for run in runs:  # warm-up: connections, statement caches, prepared statements
        batch(*run)
    for values in (*app_ms.values(), *pg_ms.values()):
        values.clear()
    for _ in range(rounds):
        for run in runs:
            batch(*run)
    med = statistics.median
    for name, _c, _t in runs:
        app_x = med(a / b for a, b in zip(app_ms[name], app_ms["bare"], strict=True))
        line = f"cpu page={name} app_ms={med(app_ms[name]):.2f} app_x_bare={app_x:.2f}"
        if pg_ms[name]:  # /proc counts in clock ticks (10 ms): the mean over all rounds
            pg, pg_bare = statistics.fmean(pg_ms[name]), statistics.fmean(pg_ms["bare"])
            total_x = (med(app_ms[name]) + pg) / (med(app_ms["bare"]) + pg_bare)
            line += f" pg_ms={pg:.2f} total_x_bare={total_x:.2f}"
        print(f"{line} (median of {rounds} rounds of {requests})", flush=True)
