"""Admin page for group robots: add (validated), switch off and on, remove; events get labels."""

from __future__ import annotations

import sqlalchemy as sa

from suite.db import db
from suite.notify.models import WebhookEndpoint
from suite.tenancy import system
from suite.views.webhooks import EVENT_LABELS
from suite.workflow.messages import SUBJECTS

URL = "https://oapi.dingtalk.com/robot/send?access_token=abc"


def _endpoints(app):
    with app.app_context(), system():
        return [
            (e.kind, e.url, e.events, e.active, e.secret)
            for e in db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id))
        ]


def test_every_process_event_has_a_label():
    assert set(EVENT_LABELS) - {"*"} == set(SUBJECTS)


def test_admin_adds_switches_and_removes_a_robot(app, admin_client):
    page = admin_client.get("/admin/webhooks")
    assert page.status_code == 200
    assert "No robots yet." in page.text or "还没有机器人" in page.text
    resp = admin_client.form(
        "/admin/webhooks",
        {"kind": "dingtalk", "url": URL, "secret": "SEC123", "events": ["task_assigned", "urge"]},
    )
    assert resp.status_code == 303
    assert _endpoints(app) == [("dingtalk", URL, ["task_assigned", "urge"], True, "SEC123")]
    with app.app_context(), system():
        endpoint_id = db.session.scalar(sa.select(WebhookEndpoint.id))
    assert admin_client.form(f"/admin/webhooks/{endpoint_id}/toggle").status_code == 303
    assert _endpoints(app)[0][3] is False
    assert admin_client.form(f"/admin/webhooks/{endpoint_id}/delete").status_code == 303
    assert _endpoints(app) == []


def test_every_event_wins_over_single_ones(app, admin_client):
    admin_client.form("/admin/webhooks", {"kind": "feishu", "url": URL, "events": ["*", "cc"]})
    assert _endpoints(app)[0][2] == ["*"]


def test_bad_robot_input_is_refused_next_to_the_field_and_nothing_is_written(app, admin_client):
    cases = [
        ({"kind": "dingtalk", "url": "http://example.com/x", "events": ["cc"]}, "url"),
        ({"kind": "dingtalk", "url": "not a url", "events": ["cc"]}, "url"),
        ({"kind": "slack", "url": URL, "events": ["cc"]}, "kind"),
        ({"kind": "wecom", "url": URL}, "events"),
    ]
    for data, name in cases:
        resp = admin_client.htmx(
            "post",
            "/admin/webhooks",
            target="webhook-form",
            data={**data, "csrf_token": admin_client.csrf_token()},
        )
        assert resp.status_code == 422, data
        assert 'id="webhook-form"' in resp.text
        assert f'id="err-{name}"' in resp.text, (name, resp.text)
    assert _endpoints(app) == []


def test_staff_cannot_manage_robots(app, client, make_workspace, make_member, login_as):
    ws = make_workspace("acme", "Acme")
    make_member(ws, "amy", roles=("suite.staff",))
    login_as(client, "amy")
    assert client.get("/admin/webhooks").status_code == 403
