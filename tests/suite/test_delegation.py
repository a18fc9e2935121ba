"""Out of office: while a window is open, new tasks go to the delegate, on behalf of the member."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from suite.db import db
from suite.demo import seed_demo
from suite.tenancy import use_workspace
from suite.workflow.models import Delegation
from tests.suite.workflow_helpers import member, new_request, open_tasks


def test_dept_head_away_tasks_go_to_the_delegate_on_their_behalf(app, client, login_as):
    with app.app_context():
        ws, _ = seed_demo()
        with use_workspace(ws.id):
            gm = member("gm").id
    login_as(client, "dept_head", "shunliu-demo")
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
    start = (today - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    end = (today + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    bad = client.form(
        "/account/out-of-office", {"delegate_id": gm, "starts_at": end, "ends_at": start}
    )
    assert bad.status_code == 422
    assert 'id="err-ends_at"' in bad.get_data(as_text=True)
    resp = client.form(
        "/account/out-of-office",
        {"delegate_id": gm, "starts_at": start, "ends_at": end, "note": "Trade fair"},
    )
    assert resp.status_code == 303
    assert "Trade fair" in client.get("/account/out-of-office").get_data(as_text=True)
    with app.app_context(), use_workspace(ws.id):
        req = new_request("staff", "100.00")
        task = open_tasks(req.instance_id)[0]
        assert task.assignee_id == gm
        assert task.on_behalf_of_id == member("dept_head").id
        window = db.session.scalar(sa.select(Delegation))
    resp = client.form(f"/account/out-of-office/{window.id}/end")
    assert resp.status_code == 303
    with app.app_context(), use_workspace(ws.id):
        later = new_request("staff", "100.00")
        assert open_tasks(later.instance_id)[0].assignee_id == member("dept_head").id


def test_someone_elses_window_cannot_be_ended(app, client, login_as):
    with app.app_context():
        ws, _ = seed_demo()
        with use_workspace(ws.id):
            now = dt.datetime.now(dt.UTC)
            window = Delegation(
                member_id=member("gm").id,
                delegate_id=member("finance").id,
                starts_at=now,
                ends_at=now + dt.timedelta(days=1),
            )
            db.session.add(window)
            db.session.commit()
            window_id = window.id
    login_as(client, "staff", "shunliu-demo")
    assert client.form(f"/account/out-of-office/{window_id}/end").status_code == 404
