"""Migrations from empty equal the models: autogenerate finds nothing to add (SQLite here;
tests/pg checks PostgreSQL), and there is one linear history."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from suite.db import db
from tests.conftest import make_app, migrate_up


def test_migrations_from_empty_equal_the_models(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'm.sqlite3'}", str(tmp_path / "inst"))
    migrate_up(app)
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
        )
    assert diff == []


def test_migration_history_is_linear(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        script = ScriptDirectory.from_config(config)
        assert len(script.get_heads()) == 1
        for rev in script.walk_revisions():
            assert not isinstance(rev.down_revision, tuple), f"merge revision {rev.revision}"
