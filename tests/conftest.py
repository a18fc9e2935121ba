"""Shared fixtures: the app on a migrated SQLite file, a CSRF-aware client, factories.

Every test starts from empty tables. Factories are fixtures returning callables with overrides:
`make_workspace("acme")`, `make_member(ws, "alice", roles=("suite.admin",))`,
`login_as(client, "alice")`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from suite.app import create_app
from suite.db import db
from suite.tenancy import Workspace, system, use_workspace

PASSWORD = "correct-horse-battery"
TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    # Cheaper argon2id for speed; the production defaults are tested in test_auth.
    "SUITE_ARGON2_TIME_COST": 1,
    "SUITE_ARGON2_MEMORY_COST": 8192,
    "SUITE_REDIS_URL": None,
    "SUITE_SCHEDULER_INPROCESS": False,
}

_REQUIRED = {s.strip() for s in os.environ.get("SUITE_TEST_REQUIRE", "").split(",") if s.strip()}


def require_or_skip(kind: str, reason: str) -> None:
    """Skip with a reason, or fail where CI says this kind of test must run (SUITE_TEST_REQUIRE)."""
    if kind in _REQUIRED:
        pytest.fail(f"{reason} (SUITE_TEST_REQUIRE={kind} says these tests must run)")
    pytest.skip(reason)


def have_tools(*names: str) -> bool:
    """Whether these command-line tools (pdftoppm, zbarimg, ...) are on PATH; where CI says the
    tools must be there (SUITE_TEST_REQUIRE=tools), a missing one fails the test instead."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing and "tools" in _REQUIRED:
        pytest.fail(f"{', '.join(missing)} not installed (SUITE_TEST_REQUIRE=tools)")
    return not missing


def make_app(database_url: str, instance_path: str, **extra: Any) -> Flask:
    os.environ["SUITE_INSTANCE_PATH"] = instance_path
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **extra})


def migrate_up(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def wipe(app: Flask) -> None:
    """Delete every row (children first); cheap compared with a new database per test."""
    with app.app_context(), system():
        db.session.remove()
        with db.engine.begin() as conn:
            if "department" in db.metadata.tables:
                conn.execute(sa.text("UPDATE department SET head_id = NULL, parent_id = NULL"))
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    base = tmp_path_factory.mktemp("suite")
    app = make_app(f"sqlite:///{base / 'test.sqlite3'}", str(base / "instance"))
    migrate_up(app)
    return app


@pytest.fixture(autouse=True)
def _clean_db(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" in request.fixturenames:
        wipe(request.getfixturevalue("app"))


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context in SYSTEM scope for arranging data directly."""
    with app.app_context(), system():
        yield app
        db.session.remove()


class Client(FlaskClient):
    """A test client that sends the CSRF token like the pages do (hidden field / hx-headers)."""

    def csrf_token(self) -> str:
        resp = self.get("/login") if not self._logged_in() else self.get("/")
        html = resp.get_data(as_text=True)
        match = re.search(r"hx-headers=\'(\{[^\']*\})\'", html)
        assert match, f"no hx-headers on the page (status {resp.status_code})"
        return json.loads(match.group(1))["X-CSRFToken"]

    def _logged_in(self) -> bool:
        with self.session_transaction() as sess:
            return "_user_id" in sess

    def form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form with a valid CSRF token."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)

    def htmx(self, method: str, url: str, target: str | None = None, **kwargs: Any) -> Any:
        headers = {"HX-Request": "true", **({"HX-Target": target} if target else {})}
        headers.update(kwargs.pop("headers", {}))
        if method.upper() != "GET":
            headers.setdefault("X-CSRFToken", self.csrf_token())
        return self.open(url, method=method.upper(), headers=headers, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def new_client(app: Flask) -> Callable[[], Client]:
    def make() -> Client:
        app.test_client_class = Client
        return app.test_client()  # type: ignore[return-value]

    return make


def workspace_factory(app: Flask) -> Callable[..., Workspace]:
    from suite.auth.services import create_workspace

    def make(
        code: str = "acme", name: str | None = None, timezone: str = "Asia/Shanghai"
    ) -> Workspace:
        with app.app_context(), system():
            ws = create_workspace(
                code, name or code.title(), app.extensions["suite.registry"], timezone
            )
            db.session.commit()
            db.session.refresh(ws)
            db.session.expunge(ws)
            return ws

    return make


def member_factory(app: Flask) -> Callable[..., int]:
    """Create a member; returns the membership id. `roles` are role codes."""
    from suite.auth.models import Role
    from suite.auth.services import save_member

    def make(
        ws: Workspace,
        login: str,
        roles: tuple[str, ...] = ("suite.staff",),
        password: str = PASSWORD,
        department_id: int | None = None,
        manager_id: int | None = None,
        active: bool = True,
        **extra: Any,
    ) -> int:
        with app.app_context(), use_workspace(ws.id):
            role_ids = list(db.session.scalars(sa.select(Role.id).where(Role.code.in_(roles))))
            assert len(role_ids) == len(roles), f"unknown role in {roles}"
            member = save_member(
                None,
                login=login,
                display_name=extra.pop("display_name", login.title()),
                email=extra.pop("email", None),
                password=password,
                department_id=department_id,
                manager_id=manager_id,
                role_ids=role_ids,
                active=active,
                **extra,
            )
            db.session.commit()
            return member.id

    return make


def department_factory(app: Flask) -> Callable[..., int]:
    """Create a department through the service (audited); returns its id."""
    from suite.auth.services import save_department

    def make(
        ws: Workspace, name: str, parent_id: int | None = None, head_id: int | None = None
    ) -> int:
        with app.app_context(), use_workspace(ws.id):
            dept = save_department(None, name=name, parent_id=parent_id, head_id=head_id)
            db.session.commit()
            return dept.id

    return make


@pytest.fixture
def make_workspace(app: Flask) -> Callable[..., Workspace]:
    return workspace_factory(app)


@pytest.fixture
def make_member(app: Flask) -> Callable[..., int]:
    return member_factory(app)


@pytest.fixture
def make_department(app: Flask) -> Callable[..., int]:
    return department_factory(app)


@pytest.fixture
def login_as(app: Flask) -> Callable[..., Any]:
    def login(client: Client, login: str, password: str = PASSWORD, **extra: Any) -> Any:
        resp = client.form("/login", {"login": login, "password": password, **extra})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
        return resp

    return login


@pytest.fixture
def admin_client(
    make_workspace: Callable[..., Workspace],
    make_member: Callable[..., int],
    client: Client,
    login_as: Callable[..., Any],
) -> Client:
    ws = make_workspace("acme", "Acme 公司")
    make_member(ws, "boss", roles=("suite.admin",))
    login_as(client, "boss")
    client.workspace = ws  # type: ignore[attr-defined]
    return client


def htmx_headers(target: str | None = None) -> dict[str, str]:
    return {"HX-Request": "true", **({"HX-Target": target} if target else {})}
