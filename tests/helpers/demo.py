"""The demo workspace in tests: seeding it, working inside it, its users' logged-in clients, and
its rows by login or code (call the lookups inside the workspace).

Fixtures here (`demo`, `as_user`) are imported by the conftest or fixture module that uses them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale

from modules.crm.models import Party
from modules.inventory.models import Item, Location
from suite.auth.models import Membership, User
from suite.db import db
from suite.demo import DEMO_PASSWORD, seed_demo
from suite.tenancy import Workspace, use_workspace
from suite.workflow.models import WorkflowTask
from tests.conftest import Client


@pytest.fixture
def demo(app: Flask) -> Workspace:
    """The demo workspace (detached)."""
    with app.app_context():
        ws, _created = seed_demo()
        db.session.refresh(ws)
        db.session.expunge(ws)
        db.session.remove()
    return ws


@pytest.fixture
def as_user(new_client: Callable[[], Any], login_as: Callable[..., Any], demo: Workspace) -> Any:
    """`as_user("buyer")`: a client logged in as that demo user (one per login), in English."""
    made: dict[str, Any] = {}

    def make(login: str) -> Any:
        if login not in made:
            c = new_client()
            login_as(c, login, DEMO_PASSWORD)
            assert c.form("/language", {"locale": "en"}).status_code == 303
            made[login] = c
        return made[login]

    return make


@contextlib.contextmanager
def in_workspace(app: Flask, workspace_id: int, locale: str | None = None) -> Iterator[None]:
    """An app context in the workspace (and `locale`, if given); the session removed after."""
    language = force_locale(locale) if locale else contextlib.nullcontext()
    with app.app_context(), use_workspace(workspace_id), language:
        try:
            yield
        finally:
            db.session.remove()


class DemoScenario:
    """A scenario's demo workspace on one app (SQLite or PostgreSQL) and its users' clients."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        with app.app_context():
            ws, _ = seed_demo()
            self.ws_id = ws.id
            self.tz = ws.timezone
            db.session.remove()
        self.clients: dict[str, Client] = {}

    def inside(self) -> contextlib.AbstractContextManager[None]:
        """`with self.inside(): ...` reads and arranges rows in the demo workspace, in English."""
        return in_workspace(self.app, self.ws_id, "en")

    def client(self, login: str) -> Client:
        """The demo user's client, logged in through the login page, pages in English."""
        if login not in self.clients:
            self.app.test_client_class = Client
            c = self.app.test_client()
            resp = c.form("/login", {"login": login, "password": DEMO_PASSWORD})
            assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
            assert c.form("/language", {"locale": "en"}).status_code == 303
            self.clients[login] = c
        return self.clients[login]


# --- lookups inside the demo workspace ------------------------------------------------------------


def member(login: str) -> Membership:
    return db.session.scalar(sa.select(Membership).join(User).where(User.login == login))


def item(code: str) -> Item:
    return db.session.scalar(sa.select(Item).where(Item.code == code))


def party(code: str) -> Party:
    return db.session.scalar(sa.select(Party).where(Party.code == code))


def location(code: str = "A-01") -> Location:
    return db.session.scalar(sa.select(Location).where(Location.code == code))


def open_tasks(instance_id: int) -> list[WorkflowTask]:
    """The instance's open approval tasks, oldest first."""
    return list(
        db.session.scalars(
            sa.select(WorkflowTask)
            .where(
                WorkflowTask.instance_id == instance_id,
                WorkflowTask.status == "open",
                WorkflowTask.kind == "approval",
            )
            .order_by(WorkflowTask.id)
        )
    )
