"""The approval pages over HTTP: general requests, the command endpoint, the inbox (待办中心).

Driven like a person would: the demo organisation (staff -> dept_head -> finance -> gm), plain
forms and HTMX requests, checked against the engine's rows and the audit trail.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from suite.audit.models import AuditEvent
from suite.auth.models import Membership, User
from suite.db import db
from suite.demo import DEMO_PASSWORD, seed_demo
from suite.notify.models import OutboxMessage
from suite.requests.models import GeneralRequest
from suite.tenancy import system, use_workspace
from suite.workflow.definitions import definition_for
from suite.workflow.models import ProcessInstance, WorkflowTask
from suite.workflow.preview import preview
from tests.suite.workflow_helpers import member

CHANGED = "workflow:instance-changed"


@pytest.fixture
def demo(app):
    with app.app_context():
        ws, _ = seed_demo()
        db.session.refresh(ws)
        db.session.expunge(ws)
        db.session.remove()
    return ws


@pytest.fixture
def inside(app, demo):
    """`with inside(): ...` reads and arranges rows in the demo workspace."""

    def enter():
        class Ctx:
            def __enter__(self):
                self.app_ctx = app.app_context()
                self.app_ctx.push()
                self.ws = use_workspace(demo.id)
                self.ws.__enter__()
                return self

            def __exit__(self, *exc):
                db.session.remove()
                self.ws.__exit__(*exc)
                self.app_ctx.pop()

        return Ctx()

    return enter


@pytest.fixture
def as_user(new_client, login_as, demo):
    """`as_user("staff")`: a client logged in as a demo user."""
    made = {}

    def make(login):
        if login not in made:
            c = new_client()
            login_as(c, login, DEMO_PASSWORD)
            made[login] = c
        return made[login]

    return make


# --- helpers --------------------------------------------------------------------------------------


def create(client, amount="4800.00", title="Printer toner", **extra):
    data = {"title": title, "amount": amount, "urgency": "normal", "reason": "", **extra}
    resp = client.form("/requests/new", data)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    return int(re.search(r"/requests/(\d+)$", resp.headers["Location"]).group(1))


def submit(client, req_id):
    resp = client.form(f"/requests/{req_id}/submit", {"key": uuid.uuid4().hex})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]


def new_submitted(client, amount="4800.00", title="Printer toner"):
    req_id = create(client, amount, title)
    submit(client, req_id)
    return req_id


def state(inside, req_id):
    """(request status, instance id, instance status, instance version)."""
    with inside():
        req = db.session.get(GeneralRequest, req_id)
        inst = db.session.get(ProcessInstance, req.instance_id) if req.instance_id else None
        return (
            req.status,
            req.instance_id,
            inst.status if inst else None,
            inst.version if inst else None,
        )


def open_task(inside, instance_id, login, kind=None):
    with inside():
        stmt = sa.select(WorkflowTask.id).where(
            WorkflowTask.instance_id == instance_id,
            WorkflowTask.status == "open",
            WorkflowTask.assignee_id == member(login).id,
        )
        if kind:
            stmt = stmt.where(WorkflowTask.kind == kind)
        return db.session.scalar(stmt)


def open_logins(inside, instance_id):
    with inside():
        rows = db.session.scalars(
            sa.select(WorkflowTask)
            .where(
                WorkflowTask.instance_id == instance_id,
                WorkflowTask.status == "open",
                WorkflowTask.kind == "approval",
            )
            .order_by(WorkflowTask.id)
        ).all()
        return [db.session.get(Membership, t.assignee_id).user.login for t in rows]


def command(client, inside, req_id, cmd, login=None, *, htmx=False, version=None, key=None, **f):
    """POST one command from the document page as `login` (the client's user)."""
    _, instance_id, _, current = state(inside, req_id)
    data = {
        "command": cmd,
        "key": key or uuid.uuid4().hex,
        "expected_version": current if version is None else version,
        **f,
    }
    if login and "workflow_task_id" not in data:
        task = open_task(inside, instance_id, login)
        if task:
            data["workflow_task_id"] = task
    url = f"/workflow/instances/{instance_id}/commands"
    if htmx:
        return client.htmx("POST", url, target=f"request-{req_id}-status", data=data)
    return client.form(url, data)


def count_events(inside, action):
    with inside():
        return db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == action)
        )


def rows(html):
    return len(re.findall(r'class="inbox-row[ "]', html))


def tab_counts(html):
    found = dict(
        re.findall(
            r'href="/inbox\?tab=(\w+)"[^>]*>[^<]*(?:<span class="count">(\d+)</span>)?', html
        )
    )
    return {k: int(v or 0) for k, v in found.items()}


# --- pages and the happy path ---------------------------------------------------------------------


def test_create_submit_and_approve_through_plain_forms(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    req_id = create(staff, "4,800")  # what people type
    with inside():
        assert db.session.get(GeneralRequest, req_id).amount == Decimal("4800.00")
    page = staff.get(f"/requests/{req_id}").get_data(as_text=True)
    assert "¥4,800.00" in page and f'id="request-{req_id}-status"' in page
    assert f"/requests/{req_id}/submit" in page
    submit(staff, req_id)
    status, instance_id, inst_status, _ = state(inside, req_id)
    assert (status, inst_status) == ("submitted", "running")
    assert open_logins(inside, instance_id) == ["dept_head"]

    detail = head.get(f"/requests/{req_id}").get_data(as_text=True)
    assert 'name="command" value="approve"' in detail
    assert "dept_head" in detail  # the assignee shown where it is now
    resp = command(head, inside, req_id, "approve", "dept_head", comment="OK, go ahead")
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/requests/{req_id}"
    assert state(inside, req_id)[::2] == ("approved", "approved")
    page = staff.get(f"/requests/{req_id}").get_data(as_text=True)
    assert "OK, go ahead" in page  # the approval comment in the history
    assert 'name="command" value="approve"' not in page


def test_htmx_command_answers_with_both_fragments_and_a_trigger(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    req_id = new_submitted(staff)
    resp = command(head, inside, req_id, "approve", "dept_head", htmx=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith(f'<section id="request-{req_id}-status"')
    assert re.search(rf'id="request-{req_id}-actions"[^>]*hx-swap-oob="true"', html)
    assert resp.headers["HX-Trigger"] == CHANGED
    assert "HX-Request" in resp.headers["Vary"]
    # The document page as a fragment for its status panel, and as a full page without HTMX.
    frag = staff.htmx("GET", f"/requests/{req_id}", target=f"request-{req_id}-status")
    assert "<html" not in frag.get_data(as_text=True)
    assert "<html" in staff.get(f"/requests/{req_id}").get_data(as_text=True)


def test_the_route_preview_before_submitting_follows_the_amount(as_user):
    staff = as_user("staff")
    small, big = create(staff, "4800"), create(staff, "6000")
    finance_label = "财务审核"
    small_page = staff.get(f"/requests/{small}").get_data(as_text=True)
    big_page = staff.get(f"/requests/{big}").get_data(as_text=True)
    route = re.compile(r'<ol class="wf-route">(.*?)</ol>', re.S)
    small_route, big_route = route.search(small_page).group(1), route.search(big_page).group(1)
    assert "dept_head" in small_route and finance_label not in small_route
    assert finance_label in big_route and ">finance<" in big_route
    # The form's live preview says the same for the value being typed.
    live = staff.htmx("GET", "/requests/route-preview?amount=6000", target="request-route")
    assert live.status_code == 200 and "<html" not in live.get_data(as_text=True)
    assert finance_label in live.get_data(as_text=True)
    live = staff.htmx("GET", "/requests/route-preview?amount=4800", target="request-route")
    assert finance_label not in live.get_data(as_text=True)


def test_preview_walks_decisions_and_resolves_people(inside):
    with inside():
        spec = definition_for("suite.general_request").current_version.spec
        staff = member("staff").id

        def path(amount, who=staff):
            return [(s.node, s.names) for s in preview(spec, {"amount": Decimal(amount)}, who)]

        assert path("4800") == [
            ("submit", ["staff"]),
            ("dept_head", ["dept_head"]),
            ("notify", ["dept_head"]),
            ("done", []),
        ]
        assert [n for n, _ in path("6000")] == ["submit", "dept_head", "finance", "notify", "done"]
        assert [n for n, _ in path("60000")][2:4] == ["finance_gm", "gm"]
        # The head of production asks nobody above: the step goes to the administrators.
        head_path = dict(path("100", member("dept_head").id))
        assert head_path["dept_head"] == ["admin"]
        assert preview(spec, {"amount": Decimal("1")}, staff, locale="en")[1].label == (
            "Department head"
        )
        assert db.session.scalar(sa.select(sa.func.count(ProcessInstance.id))) == 0


# --- the form -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "", "amount": "10"}, "title"),
        ({"title": "x" * 201, "amount": "10"}, "title"),
        ({"title": "Toner", "amount": "10.005"}, "amount"),
        ({"title": "Toner", "amount": "-1"}, "amount"),
        ({"title": "Toner", "amount": "abc"}, "amount"),
        ({"title": "Toner", "amount": "NaN"}, "amount"),
        ({"title": "Toner", "amount": "1e40"}, "amount"),
        ({"title": "Toner", "amount": "10", "urgency": "extreme"}, "urgency"),
    ],
)
def test_invalid_form_is_422_with_the_message_next_to_the_field(as_user, inside, data, field):
    staff = as_user("staff")
    resp = staff.form("/requests/new", {"urgency": "normal", "reason": "", **data})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(rf'class="field has-error[^"]*" id="field-{field}"', html)
    assert f'id="err-{field}"' in html
    htmx = staff.htmx(
        "POST", "/requests/new", target="request-form", data={"urgency": "normal", **data}
    )
    assert htmx.status_code == 422 and "<html" not in htmx.get_data(as_text=True)
    with inside():
        assert db.session.scalar(sa.select(sa.func.count(GeneralRequest.id))) == 0


def test_only_the_requester_edits_and_only_while_it_is_a_draft(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    req_id = create(staff, "100")
    resp = staff.form(
        f"/requests/{req_id}/edit", {"title": "Toner x2", "amount": "200.50", "urgency": "high"}
    )
    assert resp.status_code == 303
    with inside():
        req = db.session.get(GeneralRequest, req_id)
        assert (req.title, req.amount, req.urgency) == ("Toner x2", Decimal("200.50"), "high")
    submit(staff, req_id)
    assert staff.get(f"/requests/{req_id}/edit").status_code == 303  # locked: back to the page
    staff.form(f"/requests/{req_id}/edit", {"title": "Changed", "amount": "1", "urgency": "low"})
    with inside():
        assert db.session.get(GeneralRequest, req_id).title == "Toner x2"
    assert head.get(f"/requests/{req_id}/edit").status_code in (303, 403)


# --- refusals -------------------------------------------------------------------------------------


def test_reject_without_a_comment_is_422_next_to_the_comment_and_changes_nothing(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    req_id = new_submitted(staff)
    before = state(inside, req_id)
    resp = command(head, inside, req_id, "reject", "dept_head", comment="  ")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    err = re.search(
        rf'<p class="error" id="err-request-{req_id}-reject-comment"[^>]*>([^<]+)</p>', html
    )
    assert err and err.group(1) == "请填写意见。"
    opened = re.findall(r'<details class="wf-act"[^>]* open>\s*<summary[^>]*>([^<]+)<', html)
    assert opened == ["拒绝"]  # the reject form stays open
    htmx = command(head, inside, req_id, "reject", "dept_head", htmx=True)
    assert htmx.status_code == 422
    assert htmx.headers["HX-Retarget"] == f"#request-{req_id}-actions"
    body = htmx.get_data(as_text=True)
    assert "<html" not in body and f'id="err-request-{req_id}-reject-comment"' in body
    assert "HX-Trigger" not in htmx.headers
    assert state(inside, req_id) == before
    assert count_events(inside, "wf.reject") == 0
    ok = command(head, inside, req_id, "reject", "dept_head", comment="No budget this month")
    assert ok.status_code == 303 and state(inside, req_id)[0] == "rejected"


def test_a_stale_version_is_409_with_a_fresh_panel(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    req_id = new_submitted(staff)
    old = state(inside, req_id)[3]
    command(staff, inside, req_id, "comment", comment="Any news?")  # someone moves it on
    resp = command(head, inside, req_id, "approve", "dept_head", htmx=True, version=old)
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert f'id="request-{req_id}-status"' in html and "hx-swap-oob" in html
    assert "其他人刚刚处理过" in html  # the reason, above the fresh buttons
    fresh = state(inside, req_id)[3]
    assert f'name="expected_version" value="{fresh}"' in html
    plain = command(head, inside, req_id, "approve", "dept_head", version=old)
    assert plain.status_code == 409 and "<html" in plain.get_data(as_text=True)
    assert state(inside, req_id)[2] == "running"


def test_a_double_click_with_the_same_key_approves_once(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    req_id = new_submitted(staff, "6000")
    _, instance_id, _, version = state(inside, req_id)
    task = open_task(inside, instance_id, "dept_head")
    key = uuid.uuid4().hex
    first = command(
        head, inside, req_id, "approve", version=version, key=key, workflow_task_id=task
    )
    again = command(
        head, inside, req_id, "approve", version=version, key=key, workflow_task_id=task
    )
    assert first.status_code == again.status_code == 303
    assert count_events(inside, "wf.approve") == 1
    assert open_logins(inside, instance_id) == ["finance"]


@pytest.mark.parametrize("cmd", ["reassign", "jump", "cancel"])
def test_repair_commands_are_for_process_admins_only(as_user, inside, cmd):
    staff, admin = as_user("staff"), as_user("admin")
    req_id = new_submitted(staff)
    _, instance_id, _, _ = state(inside, req_id)
    task = open_task(inside, instance_id, "dept_head")
    with inside():
        gm = member("gm").id
    fields = {"workflow_task_id": task, "assignee": gm, "target": "done", "comment": "fix"}
    resp = command(staff, inside, req_id, cmd, **fields)
    assert resp.status_code == 403
    assert state(inside, req_id)[2] == "running"
    page = staff.get(f"/requests/{req_id}").get_data(as_text=True)
    assert f'value="{cmd}"' not in page
    assert f'value="{cmd}"' in admin.get(f"/requests/{req_id}").get_data(as_text=True)
    assert command(admin, inside, req_id, cmd, **fields).status_code == 303
    expected = {"reassign": "running", "jump": "approved", "cancel": "cancelled"}[cmd]
    assert state(inside, req_id)[2] == expected


def test_people_outside_the_request_get_404(
    as_user, inside, make_workspace, make_member, new_client, login_as
):
    staff = as_user("staff")
    req_id = new_submitted(staff)
    _, instance_id, _, _ = state(inside, req_id)
    finance = as_user("finance")  # another department, not asked (4,800)
    assert finance.get(f"/requests/{req_id}").status_code == 404
    assert command(finance, inside, req_id, "comment", comment="hi").status_code == 404
    other_ws = make_workspace("other")
    make_member(other_ws, "outsider", roles=("suite.admin",))
    outsider = new_client()
    login_as(outsider, "outsider")
    assert outsider.get(f"/requests/{req_id}").status_code == 404
    assert outsider.form(f"/requests/{req_id}/submit", {}).status_code == 404
    assert (
        outsider.form(
            f"/workflow/instances/{instance_id}/commands", {"command": "cancel"}
        ).status_code
        == 404
    )
    assert outsider.get(f"/requests/{req_id}/edit").status_code == 404
    # ... and cannot be named as an approver either.
    head = as_user("dept_head")
    with inside(), system():
        outsider_member = db.session.scalar(
            sa.select(Membership.id).join(User).where(User.login == "outsider")
        )
    resp = command(head, inside, req_id, "transfer", "dept_head", assignee=outsider_member)
    assert resp.status_code == 422 and open_logins(inside, instance_id) == ["dept_head"]


def test_every_refusal_code_has_a_message_and_unknown_commands_are_422(as_user, inside):
    from pathlib import Path

    from suite.workflow.views import REFUSALS

    root = Path(__file__).resolve().parents[2] / "suite" / "workflow"
    planner = sorted((root / "planner").glob("*.py"))
    source = "".join(f.read_text() for f in [*planner, root / "engine.py"])
    codes = set(re.findall(r'CommandRefused\(\s*"(\w+)"', source))
    assert codes and codes <= set(REFUSALS), codes - set(REFUSALS)
    staff = as_user("staff")
    req_id = new_submitted(staff)
    for cmd in ("submit", "escalate", "timeout", "resume", "bogus"):
        assert command(staff, inside, req_id, cmd).status_code == 422


# --- the commands ---------------------------------------------------------------------------------


def test_withdraw_works_until_someone_acted(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    req_id = new_submitted(staff, "6000")
    assert 'value="withdraw"' in staff.get(f"/requests/{req_id}").get_data(as_text=True)
    assert command(staff, inside, req_id, "withdraw").status_code == 303
    assert state(inside, req_id)[::2] == ("draft", "withdrawn")
    submit(staff, req_id)  # a withdrawn request is a draft again: change it, submit again
    command(head, inside, req_id, "approve", "dept_head")
    assert 'value="withdraw"' not in staff.get(f"/requests/{req_id}").get_data(as_text=True)
    resp = command(staff, inside, req_id, "withdraw", htmx=True)
    assert resp.status_code == 409 and "已有人处理，无法撤回" in resp.get_data(as_text=True)
    assert state(inside, req_id)[2] == "running"


def test_send_back_edit_and_resubmit(as_user, inside):
    staff, head, finance = as_user("staff"), as_user("dept_head"), as_user("finance")
    req_id = new_submitted(staff, "6000")
    instance_id = state(inside, req_id)[1]
    command(head, inside, req_id, "approve", "dept_head")
    page = finance.get(f"/requests/{req_id}").get_data(as_text=True)
    assert '<option value="submit">' in page and '<option value="dept_head">' in page
    resp = command(
        finance,
        inside,
        req_id,
        "send_back",
        "finance",
        target="submit",
        resume="rerun",
        comment="Attach the quote",
    )
    assert resp.status_code == 303
    edit_task = open_task(inside, instance_id, "staff", kind="edit")
    assert edit_task
    page = staff.get(f"/requests/{req_id}").get_data(as_text=True)
    assert 'value="resubmit"' in page and f"/requests/{req_id}/edit" in page
    assert "Attach the quote" in page
    edited = staff.form(
        f"/requests/{req_id}/edit",
        {"title": "Printer toner", "amount": "4000", "urgency": "normal"},
    )
    assert edited.status_code == 303
    resp = command(staff, inside, req_id, "resubmit", workflow_task_id=edit_task)
    assert resp.status_code == 303
    assert open_logins(inside, instance_id) == ["dept_head"]  # re-run: from the start again
    command(head, inside, req_id, "approve", "dept_head")
    assert state(inside, req_id)[::2] == ("approved", "approved")  # 4,000: no finance now


def test_send_back_resuming_at_the_returning_step(as_user, inside):
    staff, head, finance = as_user("staff"), as_user("dept_head"), as_user("finance")
    req_id = new_submitted(staff, "6000")
    instance_id = state(inside, req_id)[1]
    command(head, inside, req_id, "approve", "dept_head")
    command(finance, inside, req_id, "send_back", "finance", target="submit", comment="Quote?")
    edit_task = open_task(inside, instance_id, "staff", kind="edit")
    command(staff, inside, req_id, "resubmit", workflow_task_id=edit_task)
    assert open_logins(inside, instance_id) == ["finance"]
    assert "退回到" in staff.get(f"/requests/{req_id}").get_data(as_text=True)


def test_transfer_moves_the_task(as_user, inside):
    staff, head, gm = as_user("staff"), as_user("dept_head"), as_user("gm")
    req_id = new_submitted(staff)
    instance_id = state(inside, req_id)[1]
    with inside():
        gm_id = member("gm").id
    resp = command(head, inside, req_id, "transfer", "dept_head", assignee=gm_id, htmx=True)
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == CHANGED
    assert open_logins(inside, instance_id) == ["gm"]
    assert 'value="approve"' in gm.get(f"/requests/{req_id}").get_data(as_text=True)
    assert "转交给 gm" in staff.get(f"/requests/{req_id}").get_data(as_text=True)
    assert command(gm, inside, req_id, "approve", "gm").status_code == 303
    assert state(inside, req_id)[2] == "approved"


def test_add_approver_before_me(as_user, inside):
    staff, head, finance = as_user("staff"), as_user("dept_head"), as_user("finance")
    req_id = new_submitted(staff)
    instance_id = state(inside, req_id)[1]
    with inside():
        finance_id = member("finance").id
    resp = command(
        head, inside, req_id, "add_approver", "dept_head", assignee=finance_id, position="before"
    )
    assert resp.status_code == 303
    assert open_logins(inside, instance_id) == ["finance"]  # dept_head waits
    command(finance, inside, req_id, "approve", "finance")
    assert open_logins(inside, instance_id) == ["dept_head"]
    command(head, inside, req_id, "approve", "dept_head")
    assert state(inside, req_id)[2] == "approved"
    history = staff.get(f"/requests/{req_id}").get_data(as_text=True)
    assert "加签 finance（在我之前）" in history


def test_urge_comment_and_cc(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    req_id = new_submitted(staff)
    with inside():
        gm_id = member("gm").id
    assert command(staff, inside, req_id, "urge").status_code == 303
    again = command(staff, inside, req_id, "urge", htmx=True)
    assert again.status_code == 429 and "一小时内已催办过" in again.get_data(as_text=True)
    assert command(head, inside, req_id, "comment", comment="Looking at it").status_code == 303
    assert command(staff, inside, req_id, "cc", assignee=gm_id).status_code == 303
    assert tab_counts(as_user("gm").get("/inbox").get_data(as_text=True))["cc"] == 1
    page = staff.get(f"/requests/{req_id}").get_data(as_text=True)
    assert "Looking at it" in page and "催办了 dept_head" in page and "抄送给 gm" in page


# --- the inbox ------------------------------------------------------------------------------------


def test_inbox_tabs_count_per_person(as_user, inside):
    staff, head, finance = as_user("staff"), as_user("dept_head"), as_user("finance")
    small = new_submitted(staff, "100", "Pens")
    big = new_submitted(staff, "6000", "Laptop")
    new_submitted(staff, "200", "Paper")
    command(head, inside, big, "approve", "dept_head")
    command(head, inside, small, "approve", "dept_head")
    counts = {
        who: tab_counts(c.get("/inbox").get_data(as_text=True))
        for who, c in (("staff", staff), ("dept_head", head), ("finance", finance))
    }
    assert counts["staff"] == {"todo": 0, "done": 0, "started": 3, "cc": 0}
    assert counts["dept_head"] == {"todo": 1, "done": 2, "started": 0, "cc": 1}  # CC: manager
    assert counts["finance"] == {"todo": 1, "done": 0, "started": 0, "cc": 0}
    todo = finance.get("/inbox").get_data(as_text=True)
    assert "Laptop" in todo and "财务审核" in todo and f'href="/requests/{big}"' in todo
    done = head.get("/inbox?tab=done").get_data(as_text=True)
    assert "Laptop" in done and "Pens" in done and "Paper" not in done
    started = staff.get("/inbox?tab=started").get_data(as_text=True)
    assert rows(started) == 3


def test_inbox_tab_switch_is_a_fragment_with_the_url_pushed_by_the_link(as_user):
    staff = as_user("staff")
    new_submitted(staff)
    resp = staff.htmx("GET", "/inbox?tab=started", target="inbox-list")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="inbox-list"')
    assert 'hx-push-url="true"' in html
    full = staff.get("/inbox?tab=started").get_data(as_text=True)
    assert "<html" in full and 'aria-current="page">我发起的' in full


def test_inbox_filters_and_pages_newest_first(app, as_user, inside, monkeypatch):
    staff, head = as_user("staff"), as_user("dept_head")
    ids = [new_submitted(staff, "100", f"Item {i}") for i in range(3)]
    big = new_submitted(staff, "6000", "Big one")
    command(head, inside, big, "approve", "dept_head")
    monkeypatch.setitem(app.config, "SUITE_PAGE_SIZE", 2)
    first = head.get("/inbox").get_data(as_text=True)
    assert [int(x) for x in re.findall(r'href="/requests/(\d+)"', first)] == [ids[2], ids[1]]
    before = (
        re.search(r'href="(/inbox\?[^"]*before=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    )
    second = head.get(before).get_data(as_text=True)
    assert [int(x) for x in re.findall(r'href="/requests/(\d+)"', second)] == [ids[0]]
    assert "before=" not in second.split('id="inbox-rows"')[1]
    monkeypatch.setitem(app.config, "SUITE_PAGE_SIZE", 25)
    by_node = head.get("/inbox?tab=done&node=dept_head").get_data(as_text=True)
    assert "Big one" in by_node
    assert "Big one" not in head.get("/inbox?tab=done&node=finance").get_data(as_text=True)
    by_type = head.get("/inbox?type=suite.general_request").get_data(as_text=True)
    assert rows(by_type) == 3
    assert rows(head.get("/inbox?type=nope.nothing&node=gm").get_data(as_text=True)) == 0


def test_batch_approve_three_tasks_in_a_job(as_user, inside):
    staff, head = as_user("staff"), as_user("dept_head")
    ids = [new_submitted(staff, amount, f"Batch {amount}") for amount in ("100", "200", "6000")]
    tasks = [open_task(inside, state(inside, i)[1], "dept_head") for i in ids]
    resp = head.htmx(
        "POST",
        "/inbox/batch-approve",
        target="inbox-list",
        data={"workflow_task_id": [str(t) for t in tasks], "key": uuid.uuid4().hex},
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "正在同意所选待办（3 项）" in html and 'hx-trigger="load delay:1500ms"' in html
    # The embedded default runs the job right after the response.
    assert [state(inside, i)[2] for i in ids] == ["approved", "approved", "running"]
    assert count_events(inside, "wf.approve") == 3
    with inside():
        note = db.session.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.event == "batch_approved",
                OutboxMessage.recipient_id == member("dept_head").id,
            )
        )
        assert note is not None and note.payload == {"approved": 3, "failed": 0}
    assert tab_counts(head.get("/inbox").get_data(as_text=True))["todo"] == 0


def test_batch_approve_ignores_other_peoples_tasks_and_an_empty_selection(as_user, inside):
    staff, finance = as_user("staff"), as_user("finance")
    req_id = new_submitted(staff)
    task = open_task(inside, state(inside, req_id)[1], "dept_head")
    resp = finance.form("/inbox/batch-approve", {"workflow_task_id": str(task)})
    assert resp.status_code == 303
    assert state(inside, req_id)[2] == "running"
    htmx = finance.htmx("POST", "/inbox/batch-approve", target="inbox-list", data={})
    assert htmx.status_code == 422


def test_the_job_approves_each_task_once_and_reports_refusals(inside):
    from suite.workflow.jobs import batch_approve
    from tests.suite.workflow_helpers import new_request

    with inside():
        reqs = [new_request("staff", "100"), new_request("staff", "150")]
        head = member("dept_head").id
        tasks = [
            db.session.scalar(
                sa.select(WorkflowTask.id).where(
                    WorkflowTask.instance_id == r.instance_id, WorkflowTask.assignee_id == head
                )
            )
            for r in reqs
        ]
        first = batch_approve(head, tasks, "batch:test")
        again = batch_approve(head, tasks, "batch:test")  # a retry: answered from the log
        other = batch_approve(member("finance").id, tasks, "batch:finance")
    assert first["approved"] == 2 and again["approved"] == 2
    assert other["approved"] == 0
    assert {r["code"] for r in other["results"]} <= {"not_running", "task_not_open"}
    assert count_events(inside, "wf.approve") == 2


def test_menu_shows_inbox_and_requests(as_user):
    home = as_user("staff").get("/").get_data(as_text=True)
    assert 'href="/inbox"' in home and 'href="/requests"' in home
    assert '#inbox"' in home and '#request"' in home
