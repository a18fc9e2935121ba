"""PostgreSQL / Redis fixtures: `pg_app` on a migrated throwaway database, `redis_url`, factories.

The servers come from `scripts/with_services.py` (SUITE_TEST_DATABASE_URL, SUITE_TEST_REDIS_URL).
Without them every test here skips, or fails where CI sets SUITE_TEST_REQUIRE=pg,redis.
Never request the SQLite `app` fixture from these tests: `pg_app` is a separate app.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.pool import NullPool

from suite.db import db
from suite.tenancy import Workspace, system
from tests.conftest import (
    department_factory,
    make_app,
    member_factory,
    migrate_up,
    require_or_skip,
    wipe,
    workspace_factory,
)

PG_VAR, REDIS_VAR = "SUITE_TEST_DATABASE_URL", "SUITE_TEST_REDIS_URL"


def _pg_problem(url: str) -> str | None:
    """None if the server answers, else why not."""
    engine = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means "not usable"
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(PG_VAR)
    if not url:
        require_or_skip("pg", f"{PG_VAR} is not set (run under scripts/with_services.py)")
    problem = _pg_problem(url)
    if problem:
        require_or_skip("pg", f"PostgreSQL at {PG_VAR} does not answer: {problem}")
    return url


@pytest.fixture(scope="session")
def pg_app(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on an empty PostgreSQL database built by the Alembic migrations."""
    engine = sa.create_engine(pg_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    base = tmp_path_factory.mktemp("suite-pg")
    app = make_app(pg_url, str(base / "instance"))
    migrate_up(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_pg(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "pg_app" in request.fixturenames:
        wipe(request.getfixturevalue("pg_app"))


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A flushed Redis database (SUITE_TEST_REDIS_URL)."""
    url = os.environ.get(REDIS_VAR)
    if not url:
        require_or_skip("redis", f"{REDIS_VAR} is not set (run under scripts/with_services.py)")
    from redis import Redis
    from redis.exceptions import RedisError

    conn = Redis.from_url(url, socket_connect_timeout=5)
    try:
        conn.ping()
        conn.flushdb()
    except RedisError as exc:
        conn.close()
        require_or_skip("redis", f"Redis at {REDIS_VAR} does not answer: {exc}")
    try:
        yield url
        conn.flushdb()
    finally:
        conn.close()


# --- factories (the same as tests/conftest.py's, for any app) -----------------------------------


@pytest.fixture
def pg_workspace(pg_app: Flask) -> Callable[..., Workspace]:
    return workspace_factory(pg_app)


@pytest.fixture
def pg_member(pg_app: Flask) -> Callable[..., int]:
    return member_factory(pg_app)


@pytest.fixture
def pg_department(pg_app: Flask) -> Callable[..., int]:
    return department_factory(pg_app)


@pytest.fixture
def pg_ctx(pg_app: Flask) -> Iterator[Flask]:
    """An app context in SYSTEM scope on PostgreSQL, for arranging and inspecting data."""
    with pg_app.app_context(), system():
        yield pg_app
        db.session.remove()
