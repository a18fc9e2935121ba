"""The process editor through its pages: draft, validate, simulate, publish (S10.1), calendar.

Forms are read back from the rendered page and posted with the changes a person would make, so
the tests see exactly what the browser would send.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa

from suite.db import db
from suite.demo import DEMO_PASSWORD, seed_demo
from suite.tenancy import Workspace, system, use_workspace
from suite.workflow.models import ProcessDefinition, ProcessInstance, ProcessVersion, WorkflowTask
from tests.suite.workflow_helpers import act, assignees, new_request

KEY = "suite.general_request"


# --- helpers --------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """Every <form> on a page: its action and the values a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.form: dict[str, Any] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.form = {"action": a.get("action", ""), "fields": []}
            self.forms.append(self.form)
        if self.form is None:
            return
        fields = self.form["fields"]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append([a["name"], a.get("value", "on")])
            elif kind != "submit":
                fields.append([a["name"], a.get("value", "")])
        elif tag == "select":
            self.select = a.get("name")
            fields.append([self.select, None])
        elif tag == "option" and self.select:
            last = next(f for f in reversed(fields) if f[0] == self.select)
            if last[1] is None or "selected" in a:
                last[1] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a.get("name")
            fields.append([self.textarea, ""])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea and self.form is not None:
            self.form["fields"][-1][1] += data


def form_on(page: str, action: str) -> dict[str, Any]:
    """The named form's values as a dict (repeated names become lists)."""
    parser = _Forms()
    parser.feed(page)
    form = next(f for f in parser.forms if f["action"] == action)
    out: dict[str, Any] = {}
    for name, value in form["fields"]:
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value or ""
    return out


def text_of(resp: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


@pytest.fixture
def demo(app) -> int:
    with app.app_context():
        ws, _ = seed_demo()
        ws_id = ws.id
        db.session.remove()
    return ws_id


@contextlib.contextmanager
def inside(app, ws_id: int) -> Iterator[None]:
    """Drive the engine like a requester would, between page requests."""
    with app.app_context(), use_workspace(ws_id):
        yield
        db.session.remove()


@pytest.fixture
def admin(client, login_as, demo):
    login_as(client, "admin", DEMO_PASSWORD)
    client.form("/language", {"locale": "en"})
    return client


def editor(app, admin, demo) -> tuple[str, str]:
    """(editor URL, page) of the general request, installed by opening the list."""
    assert admin.get("/admin/processes").status_code == 200
    with inside(app, demo):
        definition_id = db.session.scalar(
            sa.select(ProcessDefinition.id).where(ProcessDefinition.key == KEY)
        )
    url = f"/admin/processes/{definition_id}"
    resp = admin.get(url)
    assert resp.status_code == 200
    return url, resp.get_data(as_text=True)


def versions(app, ws_id: int) -> int:
    with inside(app, ws_id):
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ProcessVersion)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessVersion.definition_id)
            .where(ProcessDefinition.key == KEY)
        )


def draft(app, ws_id: int) -> dict[str, Any]:
    with inside(app, ws_id):
        return db.session.scalar(
            sa.select(ProcessDefinition.draft).where(ProcessDefinition.key == KEY)
        )


def simulate(
    admin, url: str, page: str, amount: str, by: str = "staff", urgency: str = "normal"
) -> str:
    data = form_on(page, f"{url}/simulate")
    data["value-amount"] = amount
    data["value-urgency"] = urgency
    data["initiator"] = re.search(rf'<option value="(\d+)"[^>]*>{by} \({by}\)', page)[1]
    resp = admin.form(f"{url}/simulate", data)
    assert resp.status_code == 200, text_of(resp)[:3000]
    body = resp.get_data(as_text=True)
    path = body.split('class="pe-path"', 1)[1].split("</ol>", 1)[0]
    return " | ".join(
        " ".join(text_of_html(li).split()) for li in re.findall(r"<li[^>]*>(.*?)</li>", path, re.S)
    )


def text_of_html(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


# --- the list -------------------------------------------------------------------------------------


def test_list_installs_each_template_and_counts_running_requests_per_version(app, admin, demo):
    page = text_of(admin.get("/admin/processes"))
    assert "General request" in page and "v1" in page and "None" in page
    with inside(app, demo):
        new_request("staff", "100.00")
    assert "1 running on v1" in " ".join(text_of(admin.get("/admin/processes")).split())
    menu = admin.get("/").get_data(as_text=True)
    assert 'href="/admin/processes"' in menu and "#processes" in menu
    admin.form("/language", {"locale": "zh_CN"})
    page = " ".join(text_of(admin.get("/admin/processes")).split())
    assert "流程设置" in page and "通用申请" in page and "v1 上运行中 1 个" in page


# --- S10.1 ----------------------------------------------------------------------------------------


def test_threshold_change_keeps_running_requests_on_their_version(app, admin, demo):
    """S10.1: 5,000 -> 3,000 in the editor; a 4,000 request from before keeps dept-head-only."""
    url, page = editor(app, admin, demo)
    with inside(app, demo):
        before = new_request("staff", "4000.00").instance_id

    data = form_on(page, f"{url}/params")
    assert data["param-finance_threshold"] == "5000"
    data["param-finance_threshold"] = "3,000"
    resp = admin.form(f"{url}/params", data)
    assert resp.status_code == 303
    assert draft(app, demo) == {"params": {"finance_threshold": 3000}}
    assert versions(app, demo) == 1

    with inside(app, demo):  # a draft is not used: still v1 routing
        saved_only = new_request("staff", "4000.00").instance_id
        assert act("dept_head", saved_only).status == "approved"

    page = admin.get(url).get_data(as_text=True)
    assert "Unpublished changes" in page
    resp = admin.form(f"{url}/publish")
    assert resp.status_code == 303
    page = " ".join(text_of(admin.get(url)).split())
    assert "v2 published; requests still running on older versions: 1." in page
    assert "1 running on v1" in page
    assert versions(app, demo) == 2

    with inside(app, demo):
        after = new_request("staff", "4000.00").instance_id
        assert act("dept_head", before).status == "approved"  # v1: dept head only
        act("dept_head", after)
        assert assignees(after) == ["finance"]  # v2: over 3,000 needs finance too
        pinned = {
            i.id: i.process_version.number for i in db.session.scalars(sa.select(ProcessInstance))
        }
        assert pinned[before] == 1 and pinned[after] == 2
    assert "v2" in text_of(admin.get("/admin/processes"))


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "changes", "message"),
    [
        ("dept_head", {"mode": "n_of_m", "n": "0"}, "At least 1 approval is needed."),
        (
            "dept_head",
            {
                "mode": "n_of_m",
                "n": "3",
                "approver-0-resolver": "user",
                "approver-0-user": "finance",
                "approver-1-resolver": "user",
                "approver-1-user": "gm",
            },
            "Only 2 people are named here.",
        ),
        ("dept_head", {"remind_after": "tomorrow"}, "Write a duration like 30m, 24h"),
        ("dept_head", {"auto_action": "approve", "auto_after": ""}, "Say after how long"),
        (
            "finance",
            {"approver-0-resolver": "role", "approver-0-role": "suite.astrologer"},
            "Unknown role suite.astrologer.",
        ),
        ("finance", {"approver-0-resolver": "", "approver-1-resolver": ""}, "at least one"),
        (
            "route",
            {"case-0-as": "text", "case-0-when": "amount.__class__"},
            "Attribute access is not allowed",
        ),
        ("route", {"case-1-as": "text", "case-1-when": "amount > "}, "The condition is"),
        ("route", {"case-1-as": "text", "case-1-when": "urgency > 5"}, "Cannot use '>'"),
    ],
)
def test_invalid_step_settings_are_422_next_to_the_field_and_not_saved(
    app, admin, demo, node, changes, message
):
    url, page = editor(app, admin, demo)
    action = f"{url}/nodes/{node}"
    data = form_on(page, action) | changes
    resp = admin.form(action, data)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert message in html.unescape(body)
    assert 'class="error"' in body and 'aria-invalid="true"' in body
    assert f'id="process-{url.rsplit("/", 1)[1]}-node-{node}" class="card pe-node' in body
    assert draft(app, demo) == {}


def test_bad_param_is_422_and_htmx_gets_the_fragment(app, admin, demo):
    url, page = editor(app, admin, demo)
    pid = url.rsplit("/", 1)[1]
    data = form_on(page, f"{url}/params") | {"param-gm_threshold": "lots"}
    resp = admin.htmx("POST", f"{url}/params", target=f"process-{pid}-params", data=data)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith(f'<form id="process-{pid}-params"')
    assert "Enter a number" in body
    assert draft(app, demo) == {}


def test_htmx_save_returns_the_step_and_refreshes_flow_and_status(app, admin, demo):
    url, page = editor(app, admin, demo)
    pid = url.rsplit("/", 1)[1]
    target = f"process-{pid}-node-dept_head"
    data = form_on(page, f"{url}/nodes/dept_head") | {"mode": "all", "remind_after": "2wd"}
    resp = admin.htmx("POST", f"{url}/nodes/dept_head", target=target, data=data)
    assert resp.status_code == 200
    assert resp.headers["HX-Trigger"] == "suite:process-changed"
    body = resp.get_data(as_text=True)
    assert body.lstrip().startswith(f'<details id="{target}"') and "<html" not in body
    assert draft(app, demo) == {
        "nodes": {
            "dept_head": {"mode": "all", "sla": {"remind_after": "2wd", "escalate_after": "48h"}}
        }
    }
    flow = admin.htmx("GET", url, target=f"process-{pid}-flow")
    svg = flow.get_data(as_text=True)
    assert flow.status_code == 200 and svg.lstrip().startswith(f'<section id="process-{pid}-flow"')
    assert "<svg" in svg and "<html" not in svg
    assert "Department head · all" in svg and "Role: Finance · any one" in svg
    status = admin.htmx("GET", url, target=f"process-{pid}-publish")
    assert "Unpublished changes" in status.get_data(as_text=True)
    assert "<html" not in status.get_data(as_text=True)


def test_publishing_a_broken_draft_lists_the_problems_and_publishes_nothing(app, admin, demo):
    url, _ = editor(app, admin, demo)
    with inside(app, demo):
        definition = db.session.scalar(
            sa.select(ProcessDefinition).where(ProcessDefinition.key == KEY)
        )
        definition.draft = {  # e.g. left over from an older template
            "nodes": {
                "route": {
                    "cases": [
                        {"when": "amount.__class__", "next": "finance_gm"},
                        {"when": "amount > finance_threshold", "next": "finance"},
                    ]
                },
                "nope": {"mode": "all"},
                "gm": {"mode": "n_of_m", "n": 0},
                "finance": {"sla": {"remind_after": "soon"}},
            }
        }
        db.session.commit()
    resp = admin.form(f"{url}/publish")
    assert resp.status_code == 422
    problems = re.search(
        r'pe-problems" role="alert">(.*?)</div>', resp.get_data(as_text=True), re.S
    )
    items = [
        " ".join(text_of_html(li).split()) for li in re.findall(r"<li>(.*?)</li>", problems[1])
    ]
    assert any("route" in p and "Attribute access" in p for p in items), items
    assert any("nope" in p for p in items), items
    assert any("gm" in p and "(n)" in p for p in items), items
    assert any("Finance review" in p and "duration" in p for p in items), items
    assert versions(app, demo) == 1
    htmx = admin.htmx("POST", f"{url}/publish", target=f"process-{url.rsplit('/', 1)[1]}-publish")
    assert htmx.status_code == 422 and "<html" not in htmx.get_data(as_text=True)
    assert versions(app, demo) == 1


# --- simulate, rows, optional steps ---------------------------------------------------------------


def test_simulate_shows_the_path_and_approvers_by_amount(app, admin, demo):
    url, page = editor(app, admin, demo)
    small = simulate(admin, url, page, "4800")
    assert small == (
        "Requester Requester staff | Department head Approval dept_head"
        " | Tell the requester's manager CC dept_head | Done End"
    )
    middle = simulate(admin, url, page, "6,000")
    assert "Department head Approval dept_head | Finance review Approval finance |" in middle
    big = simulate(admin, url, page, "60000")
    assert "Finance review Approval finance | General manager Approval gm |" in big
    own = simulate(admin, url, page, "6000", by="finance")  # self-approval: skipped
    assert "Finance review" not in own and own.startswith("Requester Requester finance")
    data = form_on(page, f"{url}/simulate") | {"value-amount": "abc"}
    resp = admin.form(f"{url}/simulate", data)
    assert resp.status_code == 422 and "Enter a number" in resp.get_data(as_text=True)


def test_condition_rows_round_trip_through_the_form(app, admin, demo):
    url, page = editor(app, admin, demo)
    # The template's cases compare with params: more than rows can say, so they show as text.
    assert 'value="amount &gt; gm_threshold"' in page
    data = form_on(page, f"{url}/nodes/route")
    assert data["case-1-as"] == "text"
    data |= {
        "case-1-as": "rows",
        "case-1-row-0-field": "amount",
        "case-1-row-0-op": ">",
        "case-1-row-0-value": "3000",
        "case-1-row-1-join": "and",
        "case-1-row-1-field": "urgency",
        "case-1-row-1-op": "in",
        "case-1-row-1-value": "high, normal",
        "case-1-rows": "2",
    }
    assert admin.form(f"{url}/nodes/route", data).status_code == 303
    cases = draft(app, demo)["nodes"]["route"]["cases"]
    assert cases == [
        {"when": "amount > gm_threshold", "next": "finance_gm"},
        {"when": "amount > 3000 and urgency in ['high', 'normal']", "next": "finance"},
    ]
    again = form_on(admin.get(url).get_data(as_text=True), f"{url}/nodes/route")
    assert again["case-1-as"] == "rows" and again["case-0-as"] == "text"
    assert [again[f"case-1-row-{j}-{k}"] for j in (0, 1) for k in ("field", "op", "value")] == [
        "amount",
        ">",
        "3000",
        "urgency",
        "in",
        "high, normal",
    ]
    assert again["case-1-row-1-join"] == "and" and again["case-1-row-2-field"] == ""
    page = admin.get(url).get_data(as_text=True)
    assert "Finance review Approval finance" in simulate(admin, url, page, "4000")
    # Saving the rows unchanged writes the same expression back.
    assert admin.form(f"{url}/nodes/route", again).status_code == 303
    assert draft(app, demo)["nodes"]["route"]["cases"] == cases


def test_disabling_the_optional_notify_step_takes_it_out_of_the_route(app, admin, demo):
    url, page = editor(app, admin, demo)
    data = form_on(page, f"{url}/nodes/notify")
    assert data["enabled"] == "y"
    assert (
        'name="enabled"'
        not in page.split(f'id="process-{url.rsplit("/", 1)[1]}-node-dept_head"')[1].split(
            "</details>"
        )[0]
    )
    del data["enabled"]
    assert admin.form(f"{url}/nodes/notify", data).status_code == 303
    assert draft(app, demo) == {"nodes": {"notify": {"enabled": False}}}
    page = admin.get(url).get_data(as_text=True)
    assert "Disabled" in page
    assert "Tell the requester" not in simulate(admin, url, page, "4800")
    assert admin.form(f"{url}/publish").status_code == 303
    with inside(app, demo):
        req = new_request("staff", "4800.00")
        act("dept_head", req.instance_id)
        cc = db.session.scalars(
            sa.select(WorkflowTask).where(
                WorkflowTask.instance_id == req.instance_id, WorkflowTask.kind == "cc"
            )
        ).all()
        assert cc == []


def test_discard_returns_the_draft_to_the_current_version(app, admin, demo):
    url, page = editor(app, admin, demo)
    data = form_on(page, f"{url}/params") | {"param-gm_threshold": "80000"}
    admin.form(f"{url}/params", data)
    assert draft(app, demo) == {"params": {"gm_threshold": 80000}}
    assert admin.form(f"{url}/discard").status_code == 303
    assert draft(app, demo) == {}
    assert admin.form(f"{url}/publish").status_code == 303  # nothing changed: no new version
    assert "Nothing to publish: the draft is the same as v1." in text_of(admin.get(url))
    assert versions(app, demo) == 1


# --- the working calendar -------------------------------------------------------------------------


def calendar_of(app, ws_id: int) -> dict[str, Any] | None:
    with app.app_context(), system():
        return (db.session.get(Workspace, ws_id).settings or {}).get("calendar")


def test_calendar_is_validated_next_to_the_fields_and_saved(app, admin, demo):
    page = admin.get("/admin/calendar").get_data(as_text=True)
    data = form_on(page, "/admin/calendar")
    assert data["hours"].strip() == "09:00-12:00\n13:00-18:00"
    assert data["weekdays"] == ["0", "1", "2", "3", "4"]
    assert "Asia/Shanghai" in page
    bad = data | {
        "hours": "09:00-12:00\n11:00-18:00",
        "holidays": "2026-10-01\n2026-13-01",
        "workdays": "",
    }
    resp = admin.form("/admin/calendar", bad)
    assert resp.status_code == 422
    body = html.unescape(resp.get_data(as_text=True))
    assert "09:00-12:00 overlaps 11:00-18:00." in body and "Line 2: write a date" in body
    assert calendar_of(app, demo) is None
    clash = data | {"holidays": "2026-10-10", "workdays": "2026-10-10"}
    resp = admin.form("/admin/calendar", clash)
    assert resp.status_code == 422 and "holiday and a working day" in resp.get_data(as_text=True)
    good = data | {
        "holidays": "2026-10-01 ~ 2026-10-03\n2026-12-25",
        "workdays": "2026-10-10",
        "weekdays": ["0", "1", "2", "3", "4", "5"],
    }
    assert admin.form("/admin/calendar", good).status_code == 303
    assert calendar_of(app, demo) == {
        "timezone": "Asia/Shanghai",
        "hours": [["09:00", "12:00"], ["13:00", "18:00"]],
        "weekdays": [0, 1, 2, 3, 4, 5],
        "holidays": ["2026-10-01", "2026-10-02", "2026-10-03", "2026-12-25"],
        "workdays": ["2026-10-10"],
    }
    again = form_on(admin.get("/admin/calendar").get_data(as_text=True), "/admin/calendar")
    assert again["holidays"].strip() == "2026-10-01 ~ 2026-10-03\n2026-12-25"


def test_calendar_drives_working_day_deadlines(app, admin, demo):
    """A task opened on the eve of the holidays is due after them (2wd)."""
    import datetime as dt

    from suite.workflow.calendar import calendar_from_settings, parse_duration

    data = form_on(admin.get("/admin/calendar").get_data(as_text=True), "/admin/calendar")
    admin.form("/admin/calendar", data | {"holidays": "2026-10-01 ~ 2026-10-07"})
    cal = calendar_from_settings(calendar_of(app, demo))
    due = cal.due(dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.UTC), parse_duration("2wd"))
    assert due == dt.datetime(2026, 10, 9, 2, 0, tzinfo=dt.UTC)  # Thu 8th, Fri 9th, 10:00 local


# --- permissions ----------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/admin/processes"),
    ("GET", "/admin/processes/{id}"),
    ("POST", "/admin/processes/{id}/params"),
    ("POST", "/admin/processes/{id}/nodes/dept_head"),
    ("POST", "/admin/processes/{id}/simulate"),
    ("POST", "/admin/processes/{id}/publish"),
    ("POST", "/admin/processes/{id}/discard"),
    ("GET", "/admin/calendar"),
    ("POST", "/admin/calendar"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_staff_cannot_open_the_editor(app, client, login_as, demo, method, route):
    with inside(app, demo):
        from suite.workflow.definitions import definition_for

        definition_id = definition_for(KEY).id
        db.session.commit()
    login_as(client, "staff", DEMO_PASSWORD)
    url = route.format(id=definition_id)
    resp = client.get(url) if method == "GET" else client.form(url, {"param-gm_threshold": "1"})
    assert resp.status_code == 403
    assert draft(app, demo) == {} and versions(app, demo) == 1
    assert 'href="/admin/processes"' not in client.get("/").get_data(as_text=True)
