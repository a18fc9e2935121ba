"""One request walked through the approval flow on a phone, by four people in their own browsers.

The department head plans an absence (the general manager approves for them), staff submits a
6,000 yuan request, the general manager approves on the head's behalf, finance sends it back,
staff changes the amount and resubmits (straight back to finance), finance approves. Every step
is clicks and typing on an iPhone 13 (390 px); screenshots land in
tests/browser/artifacts/walk-phone-*.png.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.browser.test_shell import check_layout, log_in

pytestmark = pytest.mark.browser

DEVICE = "phone"
TITLE = "采购打印机硒鼓"
LOCAL = "%Y-%m-%dT%H:%M"  # what a datetime-local input holds
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo workspace's time zone


def member_id(login: str) -> int:
    from suite.auth.models import Membership, User
    from suite.db import db

    return db.session.scalar(sa.select(Membership.id).join(User).where(User.login == login))


def tasks(instance_id: int, status: str | None = None) -> list[Any]:
    from suite.db import db
    from suite.workflow.models import WorkflowTask

    stmt = sa.select(WorkflowTask).where(WorkflowTask.instance_id == instance_id)
    if status:
        stmt = stmt.where(WorkflowTask.status == status)
    return list(db.session.scalars(stmt.order_by(WorkflowTask.id)))


def looked_at(page: Any, screenshot: Callable[[Any, str], Any], name: str) -> None:
    """The page as it is now in a screenshot (first, so a failure leaves one), then the checks."""
    screenshot(page, f"walk-{DEVICE}-{name}")
    check_layout(page, DEVICE)
    assert not page.js_errors, page.js_errors


def person(new_page: Callable[[str], Any], login: str) -> Any:
    page = new_page(DEVICE)
    page.goto("/login")
    log_in(page, login)
    return page


def open_from_inbox(page: Any, screenshot: Any, shot: str | None = None) -> str:
    """待办 in the menu, then the request's row (opened); returns the row's text."""
    page.locator("nav.sidenav a[href='/inbox']").click()
    page.wait_for_url("**/inbox")
    row = page.locator("#inbox-rows li.inbox-row", has_text=TITLE)
    row.wait_for()
    assert row.count() == 1
    text = row.inner_text()
    check_layout(page, DEVICE)
    if shot:
        looked_at(page, screenshot, shot)
    row.locator("a.inbox-main").click()
    page.wait_for_url(re.compile(r"/requests/\d+$"))
    page.locator("main h1", has_text=TITLE).wait_for()
    return text


def command(page: Any, label: str, fill: Callable[[Any], None], wait_for: str) -> None:
    """Open a command's disclosure in the action bar, fill its form, send it, wait for the panel."""
    act = page.locator("details.wf-act", has=page.locator("summary", has_text=label)).first
    act.locator("summary").click()
    form = act.locator("form.wf-form")
    form.wait_for()
    fill(form)
    check_layout(page, DEVICE)  # the open form counts too
    events = page.locator(".wf-history li").count()
    with page.expect_response(lambda r: "/commands" in r.url) as sent:
        form.locator(".actions button[type=submit]").click()
    assert sent.value.status == 200, sent.value.status
    page.locator("section.wf-status", has_text=wait_for).wait_for()
    # The flow and the history below are redrawn too, without reloading the page.
    page.wait_for_function(
        "n => document.querySelectorAll('.wf-history li').length > n", arg=events
    )


def test_submit_delegate_send_back_resubmit_approve(demo, inside, new_page, screenshot):
    from suite.db import db, utcnow
    from suite.requests.models import GeneralRequest
    from suite.workflow.models import Delegation, ProcessInstance

    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings[step] = round(now - started, 2)
        started = now

    # 1. The department head will be away: the general manager approves for them meanwhile.
    head = person(new_page, "dept_head")
    head.locator("main a[href='/account/out-of-office']").click()
    head.wait_for_url("**/account/out-of-office")
    form = head.locator("#delegation-form")
    here = dt.datetime.now(SHANGHAI).replace(second=0, microsecond=0)
    starts, ends = here - dt.timedelta(hours=1), here + dt.timedelta(days=3)
    form.locator("#delegate_id").select_option(label="gm (gm)")
    form.locator("#starts_at").fill(starts.strftime(LOCAL))
    form.locator("#ends_at").fill(ends.strftime(LOCAL))
    form.locator("#note").fill("出差三天")
    check_layout(head, DEVICE)
    form.locator("button[type=submit]").click()
    window = head.locator("li[id^=delegation-][id$=-row]")
    window.wait_for()
    assert "gm" in window.inner_text() and "出差三天" in window.inner_text()
    assert head.locator("#flash").inner_text().strip() == "已保存。"
    with inside():
        rows = db.session.scalars(sa.select(Delegation)).all()
        assert [(d.member_id, d.delegate_id) for d in rows] == [
            (member_id("dept_head"), member_id("gm"))
        ]
        # Typed in Shanghai time (the workspace's), stored in UTC: the window is open now.
        assert (rows[0].starts_at, rows[0].ends_at) == (starts, ends)
        assert rows[0].starts_at <= utcnow() < rows[0].ends_at
    looked_at(head, screenshot, "1-out-of-office")
    lap("1 out of office")

    # 2. Staff writes the request, sees who will be asked, and submits it.
    staff = person(new_page, "staff")
    staff.locator("nav.sidenav a[href='/requests']").click()
    staff.wait_for_url("**/requests")
    staff.locator("main a[href='/requests/new']").click()
    staff.wait_for_url("**/requests/new")
    form = staff.locator("#request-form")
    form.locator("#title").fill(TITLE)
    form.locator("#amount").press_sequentially("6000.00")
    route = staff.locator("#request-route")
    route.locator("li", has_text="财务审核").wait_for()  # the live preview: over 5,000 yuan
    assert "dept_head" in route.inner_text() and "finance" in route.inner_text()
    form.locator("#reason").fill("两台打印机的硒鼓用完了")
    looked_at(staff, screenshot, "2a-new-request")
    form.locator(".actions button[type=submit]").click()
    staff.wait_for_url(re.compile(r"/requests/\d+$"))
    req_id = int(staff.url.rsplit("/", 1)[1])
    status = staff.locator(f"#request-{req_id}-status")
    staff.locator("section.wf-preview ol.wf-route").wait_for()
    preview = staff.locator("section.wf-preview ol.wf-route").inner_text()
    assert "dept_head" in preview and "finance" in preview
    assert "¥6,000.00" in staff.locator(".doc-fields").inner_text()
    check_layout(staff, DEVICE)
    staff.locator(f"#request-{req_id}-actions button[type=submit]", has_text="提交").click()
    staff.locator("#flash", has_text="已提交。").wait_for()
    status.locator(".chip-submitted").wait_for()
    # Where is it now: with the general manager, for the department head who is away.
    assert re.search(r"gm\s+代 dept_head", status.inner_text()), status.inner_text()
    looked_at(staff, screenshot, "2b-submitted")
    with inside():
        req = db.session.get(GeneralRequest, req_id)
        instance_id = req.instance_id
        assert (req.title, req.amount, req.status) == (TITLE, Decimal("6000.00"), "submitted")
        opened = tasks(instance_id, "open")
        assert [(t.node, t.assignee_id, t.on_behalf_of_id) for t in opened] == [
            ("dept_head", member_id("gm"), member_id("dept_head"))
        ]
    lap("2 submit")

    # 3. The general manager finds it in 待办, marked "on behalf of dept_head", and approves.
    gm = person(new_page, "gm")
    row = open_from_inbox(gm, screenshot, "3a-gm-inbox")
    assert "代 dept_head" in row and "部门负责人审批" in row, row
    command(
        gm,
        "同意",
        lambda f: f.locator("textarea[name=comment]").fill("同意，代部门负责人审批"),
        wait_for="finance",
    )
    looked_at(gm, screenshot, "3b-gm-approved")
    with inside():
        (done,) = [t for t in tasks(instance_id) if t.node == "dept_head"]
        assert (done.status, done.assignee_id, done.on_behalf_of_id) == (
            "approved",
            member_id("gm"),
            member_id("dept_head"),
        )
        assert [(t.node, t.assignee_id) for t in tasks(instance_id, "open")] == [
            ("finance", member_id("finance"))
        ]
    lap("3 gm approves for dept_head")

    # 4. Finance sends it back to the requester, to come straight back to finance afterwards.
    finance = person(new_page, "finance")
    open_from_inbox(finance, screenshot)

    def send_back(f: Any) -> None:
        f.locator("select[name=target]").select_option(value="submit")
        f.locator("select[name=resume]").select_option(label="直接回到我这一步")
        f.locator("textarea[name=comment]").fill("请核对数量，附上报价单")

    command(finance, "退回", send_back, wait_for="待修改")
    looked_at(finance, screenshot, "4-sent-back")
    with inside():
        assert [(t.kind, t.assignee_id) for t in tasks(instance_id, "open")] == [
            ("edit", member_id("staff"))
        ]
    lap("4 finance sends back")

    # 5. Staff sees it sent back, lowers the amount and resubmits.
    row = open_from_inbox(staff, screenshot, "5a-staff-inbox")
    assert "已退回给你" in row, row
    assert "请核对数量，附上报价单" in staff.locator(".wf-history").inner_text()
    staff.locator(f"#request-{req_id}-actions a", has_text="编辑").click()
    staff.wait_for_url(f"**/requests/{req_id}/edit")
    amount = staff.locator("#request-form #amount")
    amount.fill("")
    amount.press_sequentially("5800.00")
    check_layout(staff, DEVICE)
    staff.locator("#request-form .actions button[type=submit]").click()
    staff.wait_for_url(f"**/requests/{req_id}")
    staff.locator(".doc-fields", has_text="¥5,800.00").wait_for()
    command(
        staff,
        "重新提交",
        lambda f: f.locator("textarea[name=comment]").fill("已改为 5800 元并附报价单"),
        wait_for="finance",
    )
    looked_at(staff, screenshot, "5b-resubmitted")
    with inside():
        # Straight back to finance: the department head (or their delegate) is not asked again.
        assert [(t.node, t.assignee_id) for t in tasks(instance_id, "open")] == [
            ("finance", member_id("finance"))
        ]
        assert [t.node for t in tasks(instance_id) if t.node == "dept_head"] == ["dept_head"]
    lap("5 staff edits and resubmits")

    # 6. Finance approves; the request is approved, and its history tells the whole story.
    open_from_inbox(finance, screenshot)
    command(
        finance,
        "同意",
        lambda f: f.locator("textarea[name=comment]").fill("金额已核对"),
        wait_for="已通过",
    )
    staff.reload()
    status = staff.locator(f"#request-{req_id}-status")
    assert "已通过" in status.inner_text()
    # The timeline, oldest first, without the edits and the automatic routing in between.
    timeline = [
        (li.get_attribute("class"), " ".join(li.inner_text().split()))
        for li in reversed(staff.locator(".wf-history li[class^=ev-]").all())
    ]
    # The automatic routing that followed the general manager's approval is nobody's act.
    assert all("代" not in t for k, t in timeline if k == "ev-decision"), timeline
    story = [(k, t) for k, t in timeline if k not in ("ev-create", "ev-update", "ev-decision")]
    assert [k for k, _ in story] == [
        "ev-submitted",
        "ev-approve",
        "ev-send_back",
        "ev-resubmit",
        "ev-approve",
        "ev-approved",
    ], timeline
    submitted, gm_ok, sent_back, resubmitted, finance_ok, _ = (t for _, t in story)
    assert submitted.startswith("staff 提交了申请"), submitted
    assert re.match(r"gm 同意 ?（代 dept_head） 部门负责人审批", gm_ok), gm_ok
    assert gm_ok.endswith("同意，代部门负责人审批"), gm_ok
    assert sent_back.startswith("finance 退回到 发起人 财务审核"), sent_back
    assert resubmitted.startswith("staff 重新提交"), resubmitted
    assert finance_ok.startswith("finance 同意 财务审核"), finance_ok
    assert ("ev-update", "¥6,000.00 → ¥5,800.00") in [
        (k, t[t.index("¥") :]) for k, t in timeline if k == "ev-update" and "¥" in t
    ], timeline
    looked_at(staff, screenshot, "6-approved")
    with inside():
        req = db.session.get(GeneralRequest, req_id)
        assert (req.status, req.amount) == ("approved", Decimal("5800.00"))
        assert db.session.scalar(sa.select(sa.func.count(ProcessInstance.id))) == 1
        assert db.session.get(ProcessInstance, instance_id).status == "approved"
        assert tasks(instance_id, "open") == []
    for page in (head, gm, finance):
        assert not page.js_errors, page.js_errors
    lap("6 finance approves")
    print("walk timings (s):", timings, "total", round(sum(timings.values()), 2))
