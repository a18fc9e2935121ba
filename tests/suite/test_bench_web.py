"""Smoke tests of `make bench-web` (bench/web*.py, bench/bare_app.py, bench/web.lua) at a tiny N.

No timing assertions: the seeding writes what the benchmark expects, the bare page renders 20 rows,
the wrk script asks for the ids it should, and the result parsing and budgets give exact verdicts.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, request
from werkzeug.serving import make_server

from bench import bare_app, web_seed, web_wrk
from modules.crm.models import Party
from modules.purchasing.models import PurchaseOrder, PurchaseOrderLine
from suite.audit.models import AuditEvent
from suite.db import db
from suite.documents import next_number
from suite.requests.models import GeneralRequest
from suite.tenancy import system, use_workspace
from suite.workflow.models import WorkflowTask
from tests.conftest import make_app, migrate_up, require_or_skip

ORDERS, TASKS = 40, 60


def seed_small(app: Flask) -> web_seed.Seeded:
    with app.app_context():
        seeded = web_seed.seed(ORDERS, TASKS, suppliers=6, items=12, members=10, my_share=0.5)
        db.session.remove()
    return seeded


def test_seeding_writes_orders_with_lines_suppliers_and_an_inbox(app):
    seeded = seed_small(app)
    assert seeded.order_ids[1] - seeded.order_ids[0] + 1 == ORDERS
    with app.app_context(), system():
        orders = db.session.scalars(sa.select(PurchaseOrder).order_by(PurchaseOrder.id)).all()
        lines = db.session.scalars(sa.select(PurchaseOrderLine)).all()
        assert len(orders) == ORDERS
        assert (
            len(lines) == seeded.counts["lines"] == sum(1 + web_seed.mix(n) % 3 for n in range(40))
        )
        for order in orders:  # the total is the sum of the lines, Decimal all the way
            assert order.amount_total == sum(line.amount for line in order.lines)
            assert all(line.amount == line.qty * line.unit_price for line in order.lines)
            assert isinstance(order.amount_total, Decimal)
        assert {o.buyer_id for o in orders} == {seeded.member_id}
        assert len({o.supplier_id for o in orders}) > 1
        assert db.session.scalar(sa.select(sa.func.count()).where(Party.is_supplier)) == 6
        assert {o.status for o in orders} <= {s for s, _ in web_seed.STATUS_MIX}
        numbers = [o.number for o in orders]
        assert len(set(numbers)) == ORDERS
        assert all(re.fullmatch(r"PO-\d{4}-\d{4,}", n) for n in numbers)
        assert [o.created_at for o in orders] == sorted(o.created_at for o in orders)
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.entity_type == "purchase_order")
        ).all()
        past_draft = sum(o.status != "draft" for o in orders)
        assert len(events) == seeded.counts["order_events"] == ORDERS + past_draft
        last = orders[-1]
        mine = sorted((e.seq, e.action) for e in events if e.entity_id == str(last.id))
        assert mine == ([(1, "create")] + ([(2, "update")] if last.status != "draft" else []))
        create = next(e for e in events if e.entity_id == str(last.id) and e.seq == 1)
        assert create.payload["values"]["number"] == last.number
        assert Decimal(create.payload["values"]["amount_total"]) == last.amount_total

        tasks = db.session.scalars(sa.select(WorkflowTask)).all()
        assert len(tasks) == TASKS == seeded.counts["tasks"]
        assert sum(t.status == "open" for t in tasks) == 6  # instances 0, 5, ..., 25
        my_tasks = sum(web_seed.mix(t + 7) % 1000 < 500 for t in range(TASKS))
        assert sum(t.assignee_id == seeded.member_id for t in tasks) == my_tasks
        assert db.session.scalar(sa.select(sa.func.count(GeneralRequest.id))) == TASKS // 2
    with app.app_context(), use_workspace(seeded.workspace_id):  # counters moved past the seed
        assert next_number("PO") not in numbers
        db.session.rollback()


def test_the_measured_pages_and_the_bare_page_render_the_seeded_data(app, client):
    seeded = seed_small(app)
    client.form("/login", {"login": "buyer", "password": "shunliu-demo"})
    resp = client.get("/inbox")
    assert resp.status_code == 200
    first, last = seeded.order_ids
    assert client.get("/purchasing/orders").status_code == 200
    for order_id in (first, last):
        assert client.get(f"/purchasing/orders/{order_id}").status_code == 200
    with app.app_context(), system():
        open_mine = db.session.scalars(
            sa.select(GeneralRequest.number)
            .join(WorkflowTask, WorkflowTask.instance_id == GeneralRequest.instance_id)
            .where(WorkflowTask.assignee_id == seeded.member_id, WorkflowTask.status == "open")
        ).all()
        newest = db.session.scalars(
            sa.select(PurchaseOrder.number).order_by(PurchaseOrder.id.desc()).limit(20)
        ).all()
    assert open_mine
    assert all(number in resp.get_data(as_text=True) for number in open_mine)

    bare = bare_app.create_app(app.config["SQLALCHEMY_DATABASE_URI"]).test_client()
    html = bare.get("/").get_data(as_text=True)
    assert re.findall(r">(PO-[\d-]+)</a>", html) == newest
    assert len(newest) == 20


def test_wrk_output_access_log_and_budgets(tmp_path):
    out = (
        "Running 10s test\nBENCH requests=5000 duration_us=10000000 p50_us=3500 p95_us=51000 "
        "p99_us=80000 max_us=90000 errors_status=0 errors_connect=0 errors_read=0 "
        "errors_write=0 errors_timeout=0\n"
    )
    r = web_wrk.parse_wrk("order_list", out)
    assert (r.requests, r.rps, r.p95_ms, r.errors) == (5000, 500.0, 51.0, 0)
    assert web_wrk.result_line(r, 800.0) == (
        "page=order_list rps=500.0 p95_ms=51.00 ratio_vs_bare=0.62 p50_ms=3.50 p99_ms=80.00 "
        "requests=5000 errors=0 non_200=0"
    )
    assert [ok for _, ok in web_wrk.budgets(r, 800.0)] == [False, True]  # 51 ms > 50 ms
    assert [ok for _, ok in web_wrk.budgets(r, 1001.0)] == [False, False]  # ratio 0.4995
    r.p95_ms = 50.0
    assert [ok for _, ok in web_wrk.budgets(r, 1000.0)] == [True, True]
    r.non_200 = 1  # a redirect to the login page measures the wrong page
    assert [ok for _, ok in web_wrk.budgets(r, 1000.0)] == [False, False]
    with pytest.raises(ValueError, match="no BENCH line"):
        web_wrk.parse_wrk("x", "unable to connect")

    log = tmp_path / "access.log"
    log.write_text("/old 200 999999\n")
    start = log.stat().st_size
    with log.open("a") as fh:
        fh.writelines(f"/p 200 {ms * 1000}\n" for ms in range(1, 21))
        fh.write("/login 302 500\n")
    p95, count, non_200 = web_wrk.access_log_stats(log, start)
    # 0.5, 1, 2, ..., 20 ms: nearest rank ceil(21 * 0.95) = 20 -> the 20th smallest, 19 ms
    assert (p95, count, non_200) == (19.0, 21, 1)
    assert web_wrk.percentile([5.0, 1.0, 3.0, 2.0], 50) == 2.0


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A threaded HTTP server that records the paths it is asked for."""
    seen: list[str] = []
    app = Flask("recorder")

    @app.route("/<path:path>")
    def any_path(path: str) -> str:
        seen.append(request.path)
        return "ok"

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


def test_the_wrk_script_asks_for_random_ids_in_the_range(recorder):
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed")
    base, seen = recorder
    r = web_wrk.run_wrk(
        "detail", base, seconds=1, connections=2, headers={}, random_ids=("/o/%d", 3, 7)
    )
    assert r.requests > 10 and r.errors == 0
    ids = {int(p.removeprefix("/o/")) for p in seen}
    assert ids <= {3, 4, 5, 6, 7} and len(ids) > 2
    count = -1  # under load the server may still answer the first run's last requests
    while count != len(seen):
        count = len(seen)
        time.sleep(0.2)
    seen.clear()
    r = web_wrk.run_wrk("list", base + "/list", seconds=1, connections=1, headers={})
    assert r.requests > 0 and set(seen) == {"/list"}


def test_gunicorn_serves_the_app_and_the_bare_page_and_login_works(app, tmp_path):
    if not Path(sys.executable).with_name("gunicorn").exists():
        pytest.skip("gunicorn is not installed in this environment (pip install -e '.[dev]')")
    seed_small(app)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUITE_", "BENCH_"))}
    app_env = {**env, "SUITE_DATABASE_URL": url, "SUITE_SECRET_KEY": "bench-web-test"}
    app_env["SUITE_INSTANCE_PATH"] = str(tmp_path / "instance")
    servers = [web_wrk.start_gunicorn("app", "wsgi:app", app_env, tmp_path, 1, 1)]
    try:
        servers.append(
            web_wrk.start_gunicorn(
                "bare",
                "bench.bare_app:create_app()",
                {**env, "BENCH_DATABASE_URL": url},
                tmp_path,
                1,
                1,
            )  # fmt: skip
        )
        status, html = web_wrk.fetch(servers[1].base + "/")
        assert status == 200 and html.count("<tr><td>") == 20
        assert web_wrk.fetch(servers[0].base + "/inbox")[0] == 302  # not logged in
        cookie = web_wrk.login(servers[0].base, "buyer", "shunliu-demo", "shunliu_session")
        assert web_wrk.fetch(servers[0].base + "/inbox", cookie)[0] == 200
        web_wrk.fetch(servers[0].base + "/inbox", cookie)
        _, count, non_200 = web_wrk.access_log_stats(servers[0].access_log, 0)
        assert count >= 5 and non_200 >= 1  # the login's redirects
    finally:
        for server in servers:
            server.stop()
    assert all(s.proc.poll() is not None for s in servers)


@pytest.mark.pg
def test_seeding_on_postgresql_copies_and_moves_the_id_sequences(tmp_path):
    url = os.environ.get("SUITE_TEST_DATABASE_URL")
    if not url:
        require_or_skip("pg", "SUITE_TEST_DATABASE_URL is not set (run under with_services.py)")
    name = f"bench_web_{uuid.uuid4().hex[:8]}"  # its own database: tests/pg resets the shared one
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    own_url = url.rsplit("/", 1)[0] + f"/{name}"
    pg = make_app(own_url, str(tmp_path / "instance"))
    try:
        migrate_up(pg)
        seeded = seed_small(pg)
        with pg.app_context():
            web_seed.analyze()
            with use_workspace(seeded.workspace_id):
                count = sa.select(sa.func.count(PurchaseOrderLine.id))
                assert db.session.scalar(count) == seeded.counts["lines"]
                order = db.session.get(PurchaseOrder, seeded.order_ids[1])
                copy = PurchaseOrder(
                    number="PO-X", supplier_id=order.supplier_id, amount_total=Decimal("1.00")
                )
                db.session.add(copy)
                db.session.flush()
                assert copy.id == seeded.order_ids[1] + 1  # the sequence is past the COPY
                orphans = db.session.execute(  # written with foreign-key checks off
                    sa.text(
                        "SELECT (SELECT count(*) FROM purchase_order_line l LEFT JOIN"
                        " purchase_order o ON o.id = l.order_id WHERE o.id IS NULL)"
                        " + (SELECT count(*) FROM purchase_order o LEFT JOIN party p"
                        " ON p.id = o.supplier_id WHERE p.id IS NULL)"
                        " + (SELECT count(*) FROM workflow_task t LEFT JOIN process_instance i"
                        " ON i.id = t.instance_id WHERE i.id IS NULL)"
                        " + (SELECT count(*) FROM general_request r LEFT JOIN process_instance i"
                        " ON i.id = r.instance_id WHERE i.id IS NULL)"
                    )
                ).scalar()
                assert orphans == 0
                event = db.session.scalar(
                    sa.select(AuditEvent).where(
                        AuditEvent.entity_type == "purchase_order",
                        AuditEvent.entity_id == str(order.id),
                        AuditEvent.seq == 1,
                    )
                )
                assert event.payload["values"]["number"] == order.number
                events = sa.select(sa.func.count(AuditEvent.id)).where(
                    AuditEvent.entity_type == "purchase_order"
                )
                assert db.session.scalar(events) == seeded.counts["order_events"] > ORDERS
                assert order.amount_total == sum(line.amount for line in order.lines)
                db.session.rollback()
            db.session.remove()
            db.engine.dispose()
        bare = bare_app.create_app(own_url)
        html = bare.test_client().get("/").get_data(as_text=True)
        assert len(re.findall(r">(PO-[\d-]+)</a>", html)) == 20
        with bare.app_context():
            bare_app.db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
