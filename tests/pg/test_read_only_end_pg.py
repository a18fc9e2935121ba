"""A request's transaction that wrote nothing ends with COMMIT (psycopg keeps its prepared
statements); one that wrote anything still ends with ROLLBACK, committed or not by the view."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from psycopg.pq import TransactionStatus

from suite.db import db, end_if_read_only
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
