"""Fixtures for the master-data tests (crm here; the inventory master tests import them too):
the demo workspace, a second workspace with its own rows, API tokens and a cookie-less caller."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from suite.api import tokens
from suite.auth.models import Membership, User
from suite.db import db
from suite.demo import DEMO_PASSWORD, seed_demo
from suite.tenancy import system, use_workspace
from tests.helpers.demo import member


@pytest.fixture
def demo(app) -> int:
    """The demo workspace (suppliers SUP-001..003, customers CUS-001..002, WH1, three items)."""
    with app.app_context():
        ws, _created = seed_demo()
        ws_id = ws.id
        db.session.remove()
    return ws_id


@pytest.fixture
def demo_login(client, login_as) -> Callable[[str], Any]:
    """`demo_login("buyer")`: the shared client logged in as a demo user, pages in English."""

    def login(name: str) -> Any:
        login_as(client, name, DEMO_PASSWORD)
        assert client.form("/language", {"locale": "en"}).status_code == 303
        return client

    return login


@pytest.fixture
def token_for(app) -> Callable[[str], str]:
    """An API token for `login`'s membership, through the service; the user reads English
    (the API answers in the user's language, else the workspace's, which is zh_CN)."""

    def make(login: str) -> str:
        with app.app_context():
            with system():
                ws_id = db.session.scalar(
                    sa.select(Membership.workspace_id).join(User).where(User.login == login)
                )
            with use_workspace(ws_id):
                caller = member(login)
                caller.user.locale = "en"
                _token, secret = tokens.issue(caller, "tests")
                db.session.commit()
            db.session.remove()
        return secret

    return make


@pytest.fixture
def api(new_client) -> Callable[..., Any]:
    """`api(token, "GET", "/api/v1/parties", json=...)` with a cookie-less client, in English."""
    client = new_client()

    def call(token: str | None, method: str, url: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        headers.setdefault("Accept-Language", "en")
        return client.open(url, method=method, headers=headers, **kwargs)

    return call


@pytest.fixture
def in_workspace(app) -> Callable[..., Any]:
    """`with in_workspace(ws_id): ...` an app context scoped to one workspace, in English."""
    import contextlib

    from flask_babel import force_locale

    @contextlib.contextmanager
    def scope(ws_id: int):
        with app.app_context(), use_workspace(ws_id), force_locale("en"):
            yield
            db.session.remove()

    return scope


def xlsx_rows(resp: Any) -> list[list[Any]]:
    """The first sheet of an .xlsx response as lists of cell values."""
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.data), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]
