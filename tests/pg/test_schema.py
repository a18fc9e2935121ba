"""The Alembic migrations build exactly the models' schema on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from suite.db import db

pytestmark = pytest.mark.pg


def test_migrations_from_empty_equal_the_models(pg_app):
    with pg_app.app_context(), db.engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(ctx, db.metadata)
    assert version
    assert diff == []


def test_every_model_table_exists(pg_app):
    with pg_app.app_context(), db.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert set(db.metadata.tables) <= tables


def test_department_head_fk_to_membership_exists(pg_app):
    # use_alter: the migration adds it with ALTER TABLE after membership exists.
    with pg_app.app_context(), db.engine.connect() as conn:
        fks = sa.inspect(conn).get_foreign_keys("department")
    heads = [fk for fk in fks if fk["constrained_columns"] == ["head_id"]]
    assert len(heads) == 1, fks
    fk = heads[0]
    assert fk["name"] == "fk_department_head_id_membership"
    assert fk["referred_table"] == "membership"
    assert fk["referred_columns"] == ["id"]
    assert fk["options"].get("ondelete") == "SET NULL"


def test_department_head_fk_is_enforced(pg_app, pg_workspace, pg_department):
    ws = pg_workspace("acme")
    dept_id = pg_department(ws, "Sales")
    with pg_app.app_context(), db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(
            sa.text("UPDATE department SET head_id = 987654 WHERE id = :id"), {"id": dept_id}
        )
