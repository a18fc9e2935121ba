"""Web page benchmark on PostgreSQL: the real app under gunicorn + wrk against a bare Flask page.

    make bench-web                                  # throwaway PostgreSQL (scripts/with_services.py)
    make bench-web BENCH_ARGS="--orders 20000"      # a quick run
    SUITE_BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/web.py --help

Seeds `--orders` purchase orders (1-3 lines each) over `--suppliers` suppliers and an inbox of
`--tasks` tasks in the demo workspace (the database is reset unless --reuse), serves the app and
`bench/bare_app.py` (20 rows of purchase_order, no login) with the same gunicorn settings on two
ports, logs in as `--login`, and measures with wrk, all in the same run:

  page=bare          the reference page (measured first and last; the ratio uses the mean)
  page=order_list    /purchasing/orders
  page=order_detail  /purchasing/orders/<id>, uniformly random ids over the whole table
  page=inbox         /inbox ("to do" tab)

One line per page: `page=... rps=... p95_ms=... ratio_vs_bare=...` (p95 from wrk, client side;
server_p95_ms from gunicorn's access log), then PASS/FAIL per budget of ARCHITECTURE section 9:
p95 <= 50 ms and >= 50 % of the bare page's req/s. A page that does not answer 200 is reported and
not measured. `--explain` prints each page's SQL statements with EXPLAIN ANALYZE of the slowest;
`--profile N` a cProfile of N in-process requests per page; `--cpu N` the CPU time per request of
the app and of its PostgreSQL backends, in batches of N interleaved with the bare page's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.web_wrk import (  # noqa: E402
    USER_AGENT,
    Result,
    Server,
    budgets,
    fetch,
    login,
    result_line,
    run_wrk,
    start_gunicorn,
)

PAGES = (  # name, path, random-id pattern
    ("order_list", "/purchasing/orders", None),
    ("order_detail", "/purchasing/orders", "/purchasing/orders/%d"),
    ("inbox", "/inbox", None),
)


def database_url() -> str:
    url = os.environ.get("SUITE_BENCH_DATABASE_URL") or os.environ.get("SUITE_TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        sys.exit(
            "bench-web needs PostgreSQL: set SUITE_BENCH_DATABASE_URL (or run `make bench-web`)"
        )
    return url


def make_app(url: str, instance: str):
    os.environ["SUITE_INSTANCE_PATH"] = instance
    from suite.app import create_app

    # Cheap password hashes for the demo people (the served app verifies with the stored cost).
    cheap = {"SUITE_ARGON2_TIME_COST": 1, "SUITE_ARGON2_MEMORY_COST": 8192}
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-web", **cheap})


def prepare(args: argparse.Namespace, url: str, instance: str) -> tuple[int, int]:
    """Reset, migrate and seed (or, with --reuse, find what is there); the order id range."""
    import sqlalchemy as sa

    from bench import web_seed

    if not args.reuse:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    app = make_app(url, instance)
    with app.app_context():
        from suite.db import db

        if args.reuse:
            row = db.session.execute(sa.text("SELECT min(id), max(id) FROM purchase_order")).one()
            if row[0] is None:
                sys.exit("--reuse: the database has no purchase orders")
            return int(row[0]), int(row[1])
        from flask_migrate import upgrade

        started = time.perf_counter()
        upgrade()
        print(f"# migrated in {time.perf_counter() - started:.1f}s", flush=True)
        started = time.perf_counter()
        seeded = web_seed.seed(
            args.orders,
            args.tasks,
            login=args.login,
            suppliers=args.suppliers,
            items=args.items,
            members=args.members,
            my_share=args.my_share,
            audit=not args.no_audit,
            progress=lambda msg: print(f"# {msg}", flush=True),
        )
        web_seed.analyze()
        took = time.perf_counter() - started
        counts = " ".join(f"{k}={v}" for k, v in seeded.counts.items())
        parts = " ".join(f"{k}_s={v:.1f}" for k, v in seeded.seconds.items())
        print(f"seed_s={took:.1f} ({parts}) {counts}", flush=True)
        return seeded.order_ids


def serve(args: argparse.Namespace, url: str, workdir: Path) -> tuple[Server, Server]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SUITE_", "BENCH_"))}
    app_env = {
        **base,
        "SUITE_DATABASE_URL": url,
        "SUITE_SECRET_KEY": "bench-web",
        "SUITE_INSTANCE_PATH": str(workdir / "instance"),
    }
    bare_env = {**base, "BENCH_DATABASE_URL": url}
    app = start_gunicorn("app", "wsgi:app", app_env, workdir, args.workers, args.threads)
    try:
        bare = start_gunicorn(
            "bare", "bench.bare_app:create_app()", bare_env, workdir, args.workers, args.threads
        )
    except BaseException:
        app.stop()
        raise
    return app, bare


def measure(args: argparse.Namespace, app: Server, bare: Server, ids: tuple[int, int]) -> None:
    from suite.demo import DEMO_PASSWORD

    cookie = login(app.base, args.login, DEMO_PASSWORD, "shunliu_session", "/inbox")
    app_headers = {"User-Agent": USER_AGENT, "Cookie": cookie}
    bare_headers = {"User-Agent": USER_AGENT}
    status, _body = fetch(bare.base + "/")
    if status != 200:
        sys.exit(f"the bare page answered {status}: see its log with --keep")
    live = []
    for name, path, pattern in PAGES:
        probe = pattern % ids[1] if pattern else path
        status, _body = fetch(app.base + probe, cookie)
        if status != 200:
            print(f"page={name} status={status} url={probe}: not measured", flush=True)
            continue
        live.append((name, path, pattern))
    conns = args.connections or args.workers * args.threads

    def run(name: str, path: str, pattern: str | None, seconds: int) -> Result:
        if name == "bare":
            return run_wrk(
                name, bare.base + "/", seconds=seconds, connections=conns, headers=bare_headers,
                server=bare,
            )  # fmt: skip
        rand = (pattern, ids[0], ids[1]) if pattern else None
        return run_wrk(
            name, app.base + path, seconds=seconds, connections=conns, headers=app_headers,
            random_ids=rand, server=app,
        )  # fmt: skip

    for name, path, pattern in [("bare", "/", None), *live]:
        run(name, path, pattern, args.warmup)
    print(f"# warm; measuring {args.duration}s per page, {conns} connections", flush=True)
    first = run("bare", "/", None, args.duration)
    results = [run(name, path, pattern, args.duration) for name, path, pattern in live]
    last = run("bare", "/", None, args.duration)
    bare_rps = (first.rps + last.rps) / 2
    print(f"# ratio_vs_bare uses the bare page's mean of {bare_rps:.1f} req/s (first and last run)")
    print(result_line(first, None) + " run=first")
    print(result_line(last, None) + " run=last")
    for r in results:
        print(result_line(r, bare_rps))
    for r in results:
        for text, ok in budgets(r, bare_rps):
            print(f"{text} {'PASS' if ok else 'FAIL'}")
    for name, _path, _pattern in PAGES:
        if name not in {r.page for r in results}:
            print(f"budget page={name} FAIL (not measured)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=50_000, help="inbox task rows")
    parser.add_argument("--suppliers", type=int, default=20)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--members", type=int, default=300, help="extra people (inbox assignees)")
    parser.add_argument("--my-share", type=float, default=0.05, help="of the tasks, to --login")
    parser.add_argument("--no-audit", action="store_true", help="no audit events for orders")
    parser.add_argument("--login", default="buyer", help="demo user the pages are measured as")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=1, help=">1: gthread workers")
    parser.add_argument("--connections", type=int, default=0, help="wrk connections (workers)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured page")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per page, not measured")
    parser.add_argument("--reuse", action="store_true", help="keep the database as it is")
    parser.add_argument("--seed-only", action="store_true", help="no servers, no wrk")
    parser.add_argument("--explain", action="store_true", help="SQL of each page, EXPLAIN ANALYZE")
    parser.add_argument("--profile", type=int, default=0, help="cProfile N requests per page")
    parser.add_argument(
        "--cpu", type=int, default=0, help="CPU ms per request (app + PostgreSQL), N per batch"
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs' temporary directory")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    url = database_url()
    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    started = time.perf_counter()
    print(f"# load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    ids = prepare(args, url, str(workdir / "instance"))
    pages = [p[:3] for p in PAGES]
    if args.explain:
        from bench.web_explain import explain_pages

        explain_pages(url, str(workdir / "instance"), args.login, ids, pages)
    if args.profile:
        from bench.web_explain import profile_pages

        profile_pages(url, str(workdir / "instance"), args.login, ids, pages, args.profile)
    if args.cpu:
        from bench.web_explain import cpu_pages

        cpu_pages(url, str(workdir / "instance"), args.login, ids, pages, args.cpu)
    if args.seed_only:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"# no servers (--seed-only); {time.perf_counter() - started:.1f}s", flush=True)
        return
    app, bare = serve(args, url, workdir)
    try:
        measure(args, app, bare, ids)
    finally:
        app.stop()
        bare.stop()
        kept = f"; logs in {workdir}" if args.keep else ""
        print(f"# done in {time.perf_counter() - started:.1f}s{kept}", flush=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
