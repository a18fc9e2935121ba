"""A request's transaction that wrote nothing ends with COMMIT (psycopg keeps its prepared
statements); one that wrote anything still ends with ROLLBACK, committed or not by the view."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from psycopg.pq import TransactionStatus

from suite.db import db, end_if_read_only, reads_only
from suite.tenancy import Workspace, system


def _prepared(raw) -> set[str]:
    return {r[0] for r in raw.execute("SELECT statement FROM pg_prepared_statements").fetchall()}


def test_a_read_only_transaction_ends_and_keeps_its_prepared_statements(pg_app: Flask) -> None:
    with pg_app.app_context(), system():
        raw = db.session.connection().connection.driver_connection
        stmt = sa.select(Workspace.id).where(Workspace.code == sa.bindparam("code"))
        for _ in range(raw.prepare_threshold + 1):
            db.session.execute(stmt, {"code": "nope"}).all()
        end_if_read_only()
        assert raw.info.transaction_status == TransactionStatus.IDLE
        db.session.remove()
        try:
            assert any("FROM workspace" in s for s in _prepared(raw))
        finally:
            raw.rollback()


def test_a_transaction_that_wrote_is_rolled_back(pg_app: Flask, pg_workspace) -> None:
    ws = pg_workspace("acme")
    with pg_app.app_context(), system():
        db.session.execute(sa.update(Workspace).where(Workspace.id == ws.id).values(name="Changed"))
        end_if_read_only()
        db.session.remove()
    with pg_app.app_context(), system():
        assert db.session.get(Workspace, ws.id).name == "Acme"


def test_a_row_lock_counts_as_a_write(pg_app: Flask, pg_workspace) -> None:
    ws = pg_workspace("acme")
    with pg_app.app_context(), system():
        db.session.execute(sa.select(Workspace).where(Workspace.id == ws.id).with_for_update())
        raw = db.session.connection().connection.driver_connection
        end_if_read_only()
        assert raw.info.transaction_status == TransactionStatus.INTRANS  # left to the ROLLBACK
        db.session.remove()


def _sent(raw, monkeypatch) -> list[str]:
    """What the driver connection is asked to run from now on (cursors it opens itself)."""
    sent: list[str] = []
    real = raw.cursor

    def cursor(*args, **kwargs):
        cur = real(*args, **kwargs)
        execute = cur.execute

        def spy(query, *a, **k):
            sent.append(str(query))
            return execute(query, *a, **k)

        cur.execute = spy
        return cur

    monkeypatch.setattr(raw, "cursor", cursor)
    return sent


def test_plain_reads_end_without_asking_the_server(pg_app: Flask, monkeypatch) -> None:
    with pg_app.app_context(), system():
        db.session.execute(sa.select(Workspace.id).where(Workspace.code == "nope")).all()
        raw = db.session.connection().connection.driver_connection
        sent = _sent(raw, monkeypatch)
        end_if_read_only()
        assert raw.info.transaction_status == TransactionStatus.IDLE
        assert not any("pg_current_xact_id_if_assigned" in s for s in sent)
        db.session.remove()


def test_a_function_that_writes_inside_a_select_is_rolled_back(pg_app: Flask, pg_workspace) -> None:
    ws = pg_workspace("acme")
    with pg_app.app_context(), system():
        db.session.execute(
            sa.text(
                "CREATE FUNCTION rename_ws(i int) RETURNS int LANGUAGE sql AS "
                "$$ UPDATE workspace SET name = 'Changed' WHERE id = i RETURNING id $$"
            )
        )
        db.session.commit()
    try:
        with pg_app.app_context(), system():
            db.session.execute(sa.select(sa.func.rename_ws(ws.id))).all()
            end_if_read_only()
            db.session.remove()
        with pg_app.app_context(), system():
            assert db.session.get(Workspace, ws.id).name == "Acme"
    finally:
        with pg_app.app_context(), system():
            db.session.execute(sa.text("DROP FUNCTION rename_ws(int)"))
            db.session.commit()


def test_a_write_after_a_commit_is_tracked_in_the_next_transaction(
    pg_app: Flask, pg_workspace
) -> None:
    ws = pg_workspace("acme")
    with pg_app.app_context(), system():
        db.session.execute(sa.select(Workspace.id)).all()
        db.session.commit()
        db.session.execute(sa.update(Workspace).where(Workspace.id == ws.id).values(name="Changed"))
        db.session.execute(sa.select(Workspace.id)).all()
        end_if_read_only()
        db.session.remove()
    with pg_app.app_context(), system():
        assert db.session.get(Workspace, ws.id).name == "Acme"


def test_reads_only_classifies_statements() -> None:
    assert reads_only("SELECT a FROM t WHERE id IN (%(id_1)s) AND lower(b) LIKE %(q)s")
    assert reads_only("SELECT count(*) FROM t")
    for sql in (
        "UPDATE t SET a = 1",
        "SELECT a FROM t FOR UPDATE",
        "SELECT a FROM t FOR NO KEY UPDATE OF t",
        "select a from t for share",
        "WITH d AS (DELETE FROM t RETURNING a) SELECT a FROM d",
        "SELECT my_function(1)",
        'SELECT "lower"(a) FROM t',
        "SELECT public.lower(a) FROM t",
        "SELECT a FROM t WHERE set_config('lock_timeout', '2s', true) IS NOT NULL",
        "SAVEPOINT sa_savepoint_1",
    ):
        assert not reads_only(sql), sql
