"""The inbox page's statement count does not grow with its rows (no query per document)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from suite.db import db
from suite.demo import DEMO_PASSWORD, seed_demo
from suite.tenancy import use_workspace
from tests.suite.workflow_helpers import new_request


@pytest.fixture
def demo(app):
    with app.app_context():
        ws, _ = seed_demo()
        db.session.commit()
        ws_id = ws.id
        db.session.remove()
    return ws_id


def _statements(app, client, url):
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return seen


def test_inbox_statements_do_not_grow_with_the_rows(app, demo, client, login_as):
    login_as(client, "dept_head", DEMO_PASSWORD)
    with app.app_context(), use_workspace(demo):
        new_request("staff", "100")
    few = len(_statements(app, client, "/inbox"))
    with app.app_context(), use_workspace(demo):
        for n in range(12):
            new_request("staff", str(200 + n), title=f"Toner {n}")
    many = _statements(app, client, "/inbox")
    assert len(many) <= few + 1, many
