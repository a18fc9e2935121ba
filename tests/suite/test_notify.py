"""Notifications through the outbox: rows written in the caller's transaction, delivered later by
the drain (in-app, e-mail, group robots), retried with backoff, dead after 8 tries, retried by an
admin; the bell, the list, and tenant isolation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import threading
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

import suite.db
from suite.db import db
from suite.notify import notify, robots
from suite.notify.delivery import MAX_ATTEMPTS, backoff, drain, drain_all
from suite.notify.models import Notification, OutboxMessage, WebhookEndpoint
from suite.tenancy import system, use_workspace

SUBJECT = "任务分配：采购申请 PR-0001"
BODY = "请在今天下班前审批。"
LINK = "/requests/1"


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def people(app, make_workspace, make_member):
    ws = make_workspace("acme", "Acme 公司")
    return SimpleNamespace(
        ws=ws,
        boss=make_member(ws, "boss", roles=("suite.admin",), email="boss@example.com"),
        amy=make_member(ws, "amy", email="amy@example.com", display_name="Amy 王"),
        bob=make_member(ws, "bob"),  # no e-mail address
    )


@pytest.fixture
def robot_server():
    """A local HTTP server standing in for the robots: records each POST, answers `reply`."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": json.loads(raw.decode("utf-8")),
                }
            )
            status, answer = server.reply
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.reply = (200, {"errcode": 0, "errmsg": "ok"})
    server.received = received
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def add_endpoint(app, ws, kind, url, events=("*",), secret=None, active=True) -> int:
    with app.app_context(), use_workspace(ws.id):
        endpoint = WebhookEndpoint(
            kind=kind, url=url, secret=secret, events=list(events), active=active
        )
        db.session.add(endpoint)
        db.session.commit()
        return endpoint.id


def send_notice(app, ws, recipients, event="task_assigned", **kw) -> list[int]:
    with app.app_context(), use_workspace(ws.id):
        rows = notify(recipients, event, kw.pop("subject", SUBJECT), BODY, link=LINK, **kw)
        db.session.commit()
        return [r.id for r in rows]


def outbox(app) -> list[OutboxMessage]:
    with app.app_context(), system():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return list(rows)


def notifications(app) -> list[Notification]:
    with app.app_context(), system():
        rows = db.session.scalars(sa.select(Notification).order_by(Notification.id)).all()
        db.session.expunge_all()
        return list(rows)


def run_drain(app, **kw) -> int:
    with app.app_context(), system():
        try:
            return drain(**kw)
        finally:
            db.session.remove()


def mail_file(app, message_id: int) -> str:
    return os.path.join(app.instance_path, "mail", f"outbox-{message_id}.eml")


# --- notify() writes rows, nothing more ---------------------------------------------------------


def test_notify_writes_rows_per_channel_and_subscribed_robot_and_delivers_nothing(
    app, people, make_workspace, make_member
):
    other = make_workspace("beta")
    foreign = make_member(other, "zed", email="zed@example.com")
    hook = add_endpoint(app, people.ws, "dingtalk", "https://robot.test/a", ["task_assigned"])
    add_endpoint(app, people.ws, "wecom", "https://robot.test/b", ["approved"])
    add_endpoint(app, people.ws, "feishu", "https://robot.test/c", ["*"], active=False)
    add_endpoint(app, other, "feishu", "https://robot.test/d", ["*"])

    with app.app_context(), use_workspace(people.ws.id):
        rows = notify(
            [people.amy, people.bob, people.amy, foreign],
            "task_assigned",
            SUBJECT,
            BODY,
            link=LINK,
            payload={"instance_id": 7},
        )
        got = [(r.channel, r.recipient_id, r.endpoint_id, r.address) for r in rows]
        assert got == [
            ("in_app", people.amy, None, None),
            ("email", people.amy, None, "amy@example.com"),
            ("in_app", people.bob, None, None),
            ("webhook", None, hook, "https://robot.test/a"),
        ]
        assert all(r.id and r.status == "pending" and r.attempts == 0 for r in rows)
        assert all(r.workspace_id == people.ws.id for r in rows)
        assert {r.payload["instance_id"] for r in rows} == {7}
        db.session.rollback()  # the business change failed: its messages go with it
    assert outbox(app) == []

    ids = send_notice(app, people.ws, [people.amy], channels=("in_app",))
    assert [m.channel for m in outbox(app)] == ["in_app", "webhook"]
    assert notifications(app) == []
    assert not any(os.path.exists(mail_file(app, i)) for i in ids)


def test_notify_refuses_what_it_cannot_deliver(app, people):
    with app.app_context(), use_workspace(people.ws.id):
        with pytest.raises(ValueError, match="unknown channel"):
            notify([people.amy], "x", "s", "b", channels=("sms",))
        with pytest.raises(ValueError, match="relative URL"):
            notify([people.amy], "x", "s", "b", link="https://evil.test/")
        with pytest.raises(ValueError, match="relative URL"):
            notify([people.amy], "x", "s", "b", link="//evil.test/")
    with app.app_context(), system(), pytest.raises(RuntimeError, match="workspace"):
        notify([people.amy], "x", "s", "b")


def test_inactive_members_get_nothing(app, people, make_member):
    gone = make_member(people.ws, "gone", email="gone@example.com", active=False)
    send_notice(app, people.ws, [gone])
    assert outbox(app) == []


# --- delivery -----------------------------------------------------------------------------------


def test_drain_delivers_in_app_and_writes_mail_files(app, people, monkeypatch):
    monkeypatch.setitem(app.config, "SUITE_BASE_URL", "https://erp.example.com/")
    ids = send_notice(app, people.ws, [people.amy])
    assert run_drain(app) == 2

    [note] = notifications(app)
    assert (note.recipient_id, note.subject, note.body, note.link, note.read_at) == (
        people.amy,
        SUBJECT,
        BODY,
        LINK,
        None,
    )
    assert note.workspace_id == people.ws.id and note.outbox_message_id == ids[0]
    sent = outbox(app)
    assert [(m.status, m.attempts, m.last_error) for m in sent] == [("sent", 1, None)] * 2
    assert all(m.sent_at is not None for m in sent)

    with open(mail_file(app, ids[1]), "rb") as fh:
        raw = fh.read()
    assert b"=?utf-8?" in raw.split(b"\n\n", 1)[0]  # the Chinese subject is RFC 2047 encoded
    assert "任务".encode() not in raw.split(b"\n\n", 1)[0]
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert mail["Subject"] == SUBJECT
    assert mail["To"] == "amy@example.com"
    assert mail["From"] == "Shunliu <noreply@localhost>"
    assert mail["Message-ID"] == f"<shunliu-outbox-{ids[1]}@localhost>"
    assert mail["X-Shunliu-Event"] == "task_assigned"
    assert mail.get_content() == f"{BODY}\n\nhttps://erp.example.com/requests/1\n"


def test_a_message_is_never_delivered_twice(app, people, robot_server):
    add_endpoint(app, people.ws, "wecom", f"{robot_server.base}/wecom")
    ids = send_notice(app, people.ws, [people.amy])
    assert run_drain(app) == 3
    os.remove(mail_file(app, ids[1]))
    assert run_drain(app) == 0
    with app.app_context(), system():
        assert drain_all() == 0
    assert len(notifications(app)) == 1
    assert not os.path.exists(mail_file(app, ids[1]))
    assert len(robot_server.received) == 1


def test_smtp_is_used_when_a_host_is_configured(app, people, monkeypatch):
    calls: list[tuple] = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            calls.append(("connect", host, port, timeout))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            calls.append(("quit",))

        def starttls(self, context):
            calls.append(("starttls",))

        def login(self, user, password):
            calls.append(("login", user, password))

        def send_message(self, mail):
            calls.append(("send", mail["To"], mail["Subject"]))

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "SUITE_SMTP_HOST", "smtp.example.com")
    monkeypatch.setitem(app.config, "SUITE_SMTP_USER", "mailer")
    monkeypatch.setitem(app.config, "SUITE_SMTP_PASSWORD", "pw")
    ids = send_notice(app, people.ws, [people.amy], channels=("email",))
    assert run_drain(app) == 1
    assert calls == [
        ("connect", "smtp.example.com", 587, 20),
        ("starttls",),
        ("login", "mailer", "pw"),
        ("send", "amy@example.com", SUBJECT),
        ("quit",),
    ]
    assert not os.path.exists(mail_file(app, ids[0]))
    assert outbox(app)[0].status == "sent"


# --- robot formats ------------------------------------------------------------------------------


def test_robot_payload_builders_are_exact():
    assert robots.dingtalk_body("审批", "请处理", "https://x.test/r/1", 42) == {
        "msgtype": "markdown",
        "markdown": {"title": "审批", "text": "#### [审批](https://x.test/r/1)\n\n请处理"},
        "idempotency_key": "shunliu-outbox-42",
    }
    assert robots.wecom_body("审批", "请处理", None, 42) == {
        "msgtype": "markdown",
        "markdown": {"content": "#### 审批\n\n请处理"},
        "idempotency_key": "shunliu-outbox-42",
    }
    assert robots.feishu_body("审批", "请处理", "https://x.test/r/1", 42) == {
        "msg_type": "text",
        "content": {"text": "审批\n请处理\nhttps://x.test/r/1"},
        "idempotency_key": "shunliu-outbox-42",
    }
    # Signatures, computed here the way the robots' documentation describes them.
    ding = hmac.new(b"SECret", b"1700000000000\nSECret", hashlib.sha256).digest()
    assert robots.dingtalk_sign("SECret", 1700000000000) == base64.b64encode(ding).decode()
    fei = hmac.new(b"1700000000\nfs-secret", b"", hashlib.sha256).digest()
    assert robots.feishu_body("a", "", None, 1, "fs-secret", 1700000000) == {
        "timestamp": "1700000000",
        "sign": base64.b64encode(fei).decode(),
        "msg_type": "text",
        "content": {"text": "a"},
        "idempotency_key": "shunliu-outbox-1",
    }
    signed = robots.dingtalk_url("https://oapi.test/robot/send?access_token=T", "SECret", 17)
    query = parse_qs(urlsplit(signed).query)
    assert query["access_token"] == ["T"] and query["timestamp"] == ["17"]
    expected = hmac.new(b"SECret", b"17\nSECret", hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(expected).decode()]
    assert robots.dingtalk_url("https://oapi.test/send", None, 17) == "https://oapi.test/send"
    assert robots.robot_error("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}) == (
        "dingtalk answered errcode=310000: sign not match"
    )
    assert robots.robot_error("feishu", {"code": 0, "StatusCode": 0}) is None


def test_webhooks_post_each_robots_format(app, people, robot_server):
    base = robot_server.base
    add_endpoint(app, people.ws, "dingtalk", f"{base}/ding?access_token=T", secret="SECret")
    add_endpoint(app, people.ws, "wecom", f"{base}/wecom?key=K")
    add_endpoint(app, people.ws, "feishu", f"{base}/feishu", secret="fs-secret")
    ids = send_notice(app, people.ws, [], event="approved")
    assert run_drain(app) == 3
    by_path = {urlsplit(r["path"]).path: r for r in robot_server.received}
    assert sorted(by_path) == ["/ding", "/feishu", "/wecom"]
    text = f"#### [{SUBJECT}]({LINK})\n\n{BODY}"

    ding = by_path["/ding"]
    assert ding["body"] == {
        "msgtype": "markdown",
        "markdown": {"title": SUBJECT, "text": text},
        "idempotency_key": f"shunliu-outbox-{ids[0]}",
    }
    query = parse_qs(urlsplit(ding["path"]).query)
    timestamp = query["timestamp"][0]
    digest = hmac.new(b"SECret", f"{timestamp}\nSECret".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(digest).decode()]
    assert query["access_token"] == ["T"]
    assert ding["headers"]["Idempotency-Key"] == f"shunliu-outbox-{ids[0]}"
    assert ding["headers"]["Content-Type"] == "application/json; charset=utf-8"

    assert by_path["/wecom"]["body"] == {
        "msgtype": "markdown",
        "markdown": {"content": text},
        "idempotency_key": f"shunliu-outbox-{ids[1]}",
    }
    assert by_path["/wecom"]["path"] == "/wecom?key=K"

    feishu = by_path["/feishu"]["body"]
    ts = int(feishu["timestamp"])
    sign = hmac.new(f"{ts}\nfs-secret".encode(), b"", hashlib.sha256).digest()
    assert feishu == {
        "timestamp": str(ts),
        "sign": base64.b64encode(sign).decode(),
        "msg_type": "text",
        "content": {"text": f"{SUBJECT}\n{BODY}\n{LINK}"},
        "idempotency_key": f"shunliu-outbox-{ids[2]}",
    }
    assert [m.status for m in outbox(app)] == ["sent"] * 3


# --- failures -----------------------------------------------------------------------------------


def test_backoff_schedule():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_failures_back_off_then_die_and_an_admin_retries(
    app, people, robot_server, client, login_as
):
    robot_server.reply = (500, {"error": "down"})
    add_endpoint(app, people.ws, "wecom", f"{robot_server.base}/wecom")
    [msg_id] = send_notice(app, people.ws, [], subject="Webhook 失败")
    now = suite.db.utcnow() + dt.timedelta(seconds=1)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if attempt > 1:
            assert run_drain(app, now=now - dt.timedelta(microseconds=1)) == 0  # not due yet
        assert run_drain(app, now=now) == 1
        [msg] = outbox(app)
        assert msg.attempts == attempt
        assert "HTTP Error 500" in msg.last_error
        if attempt < MAX_ATTEMPTS:
            assert msg.status == "pending"
            delay = min(30 * 2**attempt, 3600)
            assert msg.next_attempt_at == now + dt.timedelta(seconds=delay)
            now = msg.next_attempt_at
        else:
            assert msg.status == "dead"
    assert len(robot_server.received) == MAX_ATTEMPTS
    assert run_drain(app, now=now + dt.timedelta(days=1)) == 0  # dead stays dead

    login_as(client, "boss")
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert f'id="outbox-{msg_id}-row"' in html
    assert "Webhook 失败" in html and "HTTP Error 500" in html
    assert "127.0.0.1" in html and robot_server.base + "/wecom" not in html  # no robot URLs

    resp = client.htmx(
        "POST",
        "/admin/outbox/retry",
        target=f"outbox-{msg_id}-row",
        data={"outbox_message_id": msg_id},
    )
    assert resp.status_code == 200
    fragment = resp.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="outbox-{msg_id}-row"') and "<html" not in fragment
    [msg] = outbox(app)
    assert (msg.status, msg.attempts) == ("pending", 0)
    assert msg.next_attempt_at <= suite.db.utcnow()

    robot_server.reply = (200, {"errcode": 0, "errmsg": "ok"})
    assert run_drain(app) == 1
    [msg] = outbox(app)
    assert (msg.status, msg.attempts, msg.last_error) == ("sent", 1, None)
    assert f'id="outbox-{msg_id}-row"' not in client.get("/admin/outbox").get_data(as_text=True)

    resp = client.form("/admin/outbox/retry", {"outbox_message_id": msg_id})
    assert resp.status_code == 409  # delivered messages are not sent again


def test_robot_refusals_in_a_200_answer_are_failures(app, people, robot_server):
    robot_server.reply = (200, {"errcode": 310000, "errmsg": "sign not match"})
    add_endpoint(app, people.ws, "dingtalk", f"{robot_server.base}/ding", secret="wrong")
    send_notice(app, people.ws, [])
    assert run_drain(app) == 1
    [msg] = outbox(app)
    assert (msg.status, msg.attempts) == ("pending", 1)
    assert msg.last_error == "RuntimeError: dingtalk answered errcode=310000: sign not match"


def test_a_switched_off_or_removed_endpoint_kills_its_messages_at_once(app, people):
    first = add_endpoint(app, people.ws, "wecom", "https://robot.test/a")
    second = add_endpoint(app, people.ws, "wecom", "https://robot.test/b")
    send_notice(app, people.ws, [])
    with app.app_context(), use_workspace(people.ws.id):
        db.session.get(WebhookEndpoint, first).active = False
        db.session.delete(db.session.get(WebhookEndpoint, second))
        db.session.commit()
    assert run_drain(app) == 2
    errors = sorted(m.last_error for m in outbox(app))
    assert errors == [
        "PermanentError: the webhook endpoint is switched off",
        "PermanentError: the webhook endpoint was removed",
    ]
    assert {m.status for m in outbox(app)} == {"dead"}


def test_the_scheduler_pass_and_the_job_drain_every_workspace(
    app, people, make_workspace, make_member
):
    from suite.jobs import enqueue, run_periodic

    other = make_workspace("beta")
    zed = make_member(other, "zed")
    send_notice(app, people.ws, [people.bob])
    send_notice(app, other, [zed])
    run_periodic(app)
    assert {(n.workspace_id, n.recipient_id) for n in notifications(app)} == {
        (people.ws.id, people.bob),
        (other.id, zed),
    }
    send_notice(app, other, [zed], subject="second")
    with app.app_context():
        assert enqueue("suite.drain_outbox", workspace_id=people.ws.id) == 1
    assert len(notifications(app)) == 3


# --- pages --------------------------------------------------------------------------------------


def test_bell_count_list_open_and_mark_all_read(app, people, client, login_as):
    for i in range(3):
        send_notice(app, people.ws, [people.amy], subject=f"通知 {i}", channels=("in_app",))
    send_notice(app, people.ws, [people.bob], subject="not for amy", channels=("in_app",))
    run_drain(app)
    login_as(client, "amy")

    home = client.get("/").get_data(as_text=True)
    assert 'hx-trigger="load, every 30s' in home and 'id="notify-bell"' in home

    bell = client.htmx("GET", "/notifications/bell", target="notify-bell-slot")
    html = bell.get_data(as_text=True)
    assert bell.status_code == 200 and "<html" not in html
    assert (
        html.startswith('<a id="notify-bell"')
        and '<span class="bell-count" aria-hidden="true">3</span>' in html
    )
    assert client.get("/notifications/bell").status_code == 302  # a page, not a fragment

    page = client.get("/notifications").get_data(as_text=True)
    assert "通知 0" in page and "通知 2" in page and "not for amy" not in page
    assert page.index("通知 2") < page.index("通知 0")  # newest first
    first = next(n for n in notifications(app) if n.subject == "通知 0")
    resp = client.get(f"/notifications/{first.id}")
    assert resp.status_code == 303 and resp.headers["Location"] == LINK
    assert 'bell-count" aria-hidden="true">2<' in client.htmx(
        "GET", "/notifications/bell", target="notify-bell-slot"
    ).get_data(as_text=True)

    resp = client.htmx("POST", "/notifications/read-all", target="notification-rows")
    fragment = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "suite:notifications-read"
    assert (
        fragment.lstrip().startswith('<tbody id="notification-rows">') and "<html" not in fragment
    )
    assert 'class="unread"' not in fragment
    bell = client.htmx("GET", "/notifications/bell", target="notify-bell-slot").get_data(
        as_text=True
    )
    assert "bell-count" not in bell
    assert {n.read_at is not None for n in notifications(app) if n.recipient_id == people.amy} == {
        True
    }
    assert [n.read_at for n in notifications(app) if n.recipient_id == people.bob] == [None]
    assert client.form("/notifications/read-all").status_code == 303


def test_notifications_page_is_paged_newest_first(app, people, client, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "SUITE_PAGE_SIZE", 2)
    for i in range(3):
        send_notice(app, people.ws, [people.amy], subject=f"第{i}条", channels=("in_app",))
    run_drain(app)
    login_as(client, "amy")
    first = client.get("/notifications").get_data(as_text=True)
    assert "第2条" in first and "第1条" in first and "第0条" not in first
    oldest = min(n.id for n in notifications(app))
    more = client.htmx("GET", f"/notifications?before={oldest + 1}", target="notification-rows")
    assert "第0条" in more.get_data(as_text=True) and "第1条" not in more.get_data(as_text=True)


def test_outbox_page_needs_its_permission(people, client, login_as):
    login_as(client, "amy")
    assert client.get("/admin/outbox").status_code == 403
    assert client.form("/admin/outbox/retry", {"outbox_message_id": 1}).status_code == 403
    assert "/admin/outbox" not in client.get("/").get_data(as_text=True)


def test_outbox_menu_entry_for_admins(people, client, login_as):
    login_as(client, "boss")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/outbox"' in home and "icons.svg#outbox" in home
    assert client.get("/admin/outbox").status_code == 200


def test_another_workspace_and_another_member_see_nothing(
    app, people, make_workspace, make_member, client, login_as
):
    other = make_workspace("beta")
    zed = make_member(other, "zed", roles=("suite.admin",))
    send_notice(app, other, [zed], subject="BETA-SECRET notice", channels=("in_app",))
    send_notice(app, people.ws, [people.amy], subject="for amy", channels=("in_app",))
    run_drain(app)
    with app.app_context(), system():
        b_note = db.session.scalar(
            sa.select(Notification.id).where(Notification.recipient_id == zed)
        )
        amy_note = db.session.scalar(
            sa.select(Notification.id).where(Notification.recipient_id == people.amy)
        )
    # B's dead message for the dead-letter page
    [b_msg] = send_notice(app, other, [zed], subject="BETA-SECRET dead", channels=("in_app",))
    with app.app_context(), system():
        db.session.get(OutboxMessage, b_msg).status = "dead"
        db.session.get(OutboxMessage, b_msg).last_error = "BETA-SECRET error"
        db.session.commit()

    login_as(client, "boss")
    assert "BETA-SECRET" not in client.get("/notifications").get_data(as_text=True)
    assert client.get(f"/notifications/{b_note}").status_code == 404
    assert client.get(f"/notifications/{amy_note}").status_code == 404  # amy's, not the boss's
    bell = client.htmx("GET", "/notifications/bell", target="notify-bell-slot").get_data(
        as_text=True
    )
    assert "bell-count" not in bell
    assert "BETA-SECRET" not in client.get("/admin/outbox").get_data(as_text=True)
    assert client.form("/admin/outbox/retry", {"outbox_message_id": b_msg}).status_code == 404
    with app.app_context(), system():
        assert db.session.get(OutboxMessage, b_msg).status == "dead"
        assert db.session.get(Notification, amy_note).read_at is None
