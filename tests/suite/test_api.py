"""The JSON API: personal tokens, tenant isolation, the approval flow, the OpenAPI document."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from suite.api import tokens
from suite.api.models import ApiToken
from suite.auth.models import Membership, User
from suite.auth.permissions import permissions_of
from suite.db import db
from suite.demo import DEMO_PASSWORD, seed_demo
from suite.requests import services
from suite.requests.models import GeneralRequest
from suite.tenancy import system, use_workspace
from suite.workflow.models import ProcessInstance, WorkflowTask
from tests.helpers.api import spec_checker
from tests.suite.test_tenancy import rows_of

SECRET = re.compile(r"slt_[A-Za-z0-9_-]{40,}")


@pytest.fixture
def demo(app):
    with app.app_context():
        ws, _created = seed_demo()
        ws_id = ws.id
        db.session.remove()
    return ws_id


def _member(login: str) -> Membership:
    return db.session.scalar(sa.select(Membership).join(User).where(User.login == login))


def make_token(app, login: str, name: str = "script") -> str:
    """A token for `login`'s (only) membership, through the service."""
    with app.app_context():
        with system():
            ws_id = db.session.scalar(
                sa.select(Membership.workspace_id).join(User).where(User.login == login)
            )
        with use_workspace(ws_id):
            _token, secret = tokens.issue(_member(login), name)
            db.session.commit()
        db.session.remove()
    return secret


@pytest.fixture
def token_for(app):
    return lambda login, name="script": make_token(app, login, name)


@pytest.fixture
def api(new_client):
    """`api(token, "GET", "/api/v1/me", json=...)` with a fresh, cookie-less client."""
    client = new_client()

    def call(token: str | None, method: str, url: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        headers.setdefault("Accept-Language", "en")
        return client.open(url, method=method, headers=headers, **kwargs)

    return call


def new_request(api, token: str, amount: str = "4800.00", title: str = "Printer toner") -> dict:
    resp = api(token, "POST", "/api/v1/requests", json={"title": title, "amount": amount})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def submitted(api, token: str, amount: str = "4800.00", title: str = "Printer toner") -> dict:
    req = new_request(api, token, amount, title)
    resp = api(token, "POST", f"/api/v1/requests/{req['id']}/submit", json={})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def open_task(api, token: str, instance_id: int) -> int:
    detail = api(token, "GET", f"/api/v1/instances/{instance_id}").get_json()
    assert detail["my_open_task_ids"], detail
    return detail["my_open_task_ids"][0]


# --- tokens -------------------------------------------------------------------------------------


def test_a_token_made_on_the_page_is_shown_once_and_works_until_revoked(
    app, demo, client, login_as, api
):
    login_as(client, "staff", DEMO_PASSWORD)
    assert client.get("/account/tokens").status_code == 200
    assert client.form("/account/tokens", {"name": ""}).status_code == 422
    resp = client.form("/account/tokens", {"name": "Reporting script"})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    secret = SECRET.search(resp.get_data(as_text=True)).group(0)
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing and secret[:8] in listing and "Reporting script" in listing
    with app.app_context(), system():
        stored = db.session.scalar(sa.select(ApiToken))
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert stored.prefix == secret[:8] and stored.last_used_at is None
        token_id = stored.id

    me = api(secret, "GET", "/api/v1/me")
    assert me.status_code == 200
    body = me.get_json()
    assert body["user"]["login"] == "staff" and body["workspace"]["id"] == demo
    assert body["token"] == {"id": token_id, "name": "Reporting script", "prefix": secret[:8]}
    assert "suite.request.create" in body["permissions"]
    with app.app_context(), system():
        assert db.session.get(ApiToken, token_id).last_used_at is not None

    resp = client.form(f"/account/tokens/{token_id}/revoke")
    assert resp.status_code == 303
    assert api(secret, "GET", "/api/v1/me").status_code == 401
    assert 'class="tag off"' in client.get("/account/tokens").text  # revoked


def test_the_tokens_page_needs_a_login_and_shows_only_my_tokens(
    app, demo, client, login_as, token_for
):
    assert client.get("/account/tokens").status_code == 302
    token_for("finance", "finance's own")
    login_as(client, "staff", DEMO_PASSWORD)
    assert "finance&#39;s own" not in client.get("/account/tokens").text
    with app.app_context(), system():
        other = db.session.scalar(sa.select(ApiToken.id))
    assert client.form(f"/account/tokens/{other}/revoke").status_code == 404
    with app.app_context(), system():
        assert db.session.get(ApiToken, other).revoked_at is None


def test_the_api_needs_a_valid_bearer_token(app, demo, api, token_for):
    secret = token_for("staff")
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer slt_not-a-token"},
        {"Authorization": f"Basic {secret}"},
        {"Authorization": f"Bearer {secret}x"},
    ):
        resp = api(None, "GET", "/api/v1/me", headers=headers)
        assert resp.status_code == 401, headers
        assert resp.get_json()["error"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    zh = api(None, "GET", "/api/v1/me", headers={"Accept-Language": "zh-CN"})
    assert not zh.get_json()["message"].isascii()
    assert api(secret, "GET", "/api/v1/me").status_code == 200


@pytest.mark.parametrize("what", ["membership", "user"])
def test_a_disabled_member_or_user_is_refused(app, demo, api, token_for, what):
    secret = token_for("staff")
    assert api(secret, "GET", "/api/v1/me").status_code == 200
    with app.app_context(), use_workspace(demo):
        member = _member("staff")
        if what == "membership":
            member.active = False
        else:
            member.user.active = False
        db.session.commit()
    resp = api(secret, "GET", "/api/v1/tasks")
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"


def test_a_cookie_session_alone_does_not_authenticate_the_api(
    app, demo, client, login_as, token_for
):
    login_as(client, "staff", DEMO_PASSWORD)
    assert client.get("/api/v1/me").status_code == 401
    csrf = {"X-CSRFToken": client.csrf_token()}
    resp = client.post("/api/v1/requests", json={"title": "Sneaky"}, headers=csrf)
    assert resp.status_code == 401
    # With both, the token decides who is calling, never the cookie.
    finance = token_for("finance")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {finance}"})
    assert me.get_json()["user"]["login"] == "finance"
    with app.app_context(), system():
        assert db.session.scalar(sa.select(sa.func.count(GeneralRequest.id))) == 0


def test_permissions_of_needs_no_request(app, demo):
    with app.app_context(), use_workspace(demo):
        assert "*" in permissions_of(_member("admin"))
        assert "suite.request.create" in permissions_of(_member("staff"))
        assert permissions_of(None) == frozenset()


# --- tenancy ------------------------------------------------------------------------------------


@pytest.fixture
def beta(app, make_workspace, make_member):
    """Workspace B with a submitted request (and so a process instance and tasks)."""
    b = make_workspace("beta", "BETA-SECRET Co")
    make_member(b, "beta_boss", roles=("suite.admin",))
    make_member(b, "beta_staff", roles=("suite.staff",))
    with app.app_context(), use_workspace(b.id):
        req = services.save(
            None,
            _member("beta_staff"),
            title="BETA-SECRET toner",
            amount=None,
            urgency="normal",
            reason="",
        )
        services.submit(req, _member("beta_staff"), key="beta-1")
        db.session.commit()
    return b


def test_every_api_route_answers_404_for_another_workspaces_ids(app, demo, beta, api, token_for):
    a_admin = token_for("admin")  # holds every permission in A
    with app.app_context(), system():
        ids = {
            "process_instance_id": db.session.scalar(
                sa.select(ProcessInstance.id).where(ProcessInstance.workspace_id == beta.id)
            ),
            "general_request_id": db.session.scalar(
                sa.select(GeneralRequest.id).where(GeneralRequest.workspace_id == beta.id)
            ),
        }
    before = rows_of(app, beta.id)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or not rule.arguments:
            continue
        if not set(rule.arguments) <= set(ids):
            continue  # a module's route (Manifest.api): its own tests aim B's rows at it
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<int:{arg}>", str(ids[arg]), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            body = {"command": "approve"} if url.endswith("/commands") else None
            resp = api(a_admin, method, url, json=body)
            assert resp.status_code == 404, (method, url, resp.status_code)
            assert resp.get_json()["error"] == "not_found"
            checked += 1
    assert checked >= 4
    for url in ("/api/v1/tasks?tab=todo", "/api/v1/tasks?tab=started", "/api/v1/requests"):
        assert "BETA-SECRET" not in api(a_admin, "GET", url).text
    assert rows_of(app, beta.id) == before


def test_a_token_works_only_in_its_own_workspace(app, demo, beta, api, token_for):
    secret = token_for("beta_staff")
    body = api(secret, "GET", "/api/v1/requests").get_json()
    assert [r["title"] for r in body["items"]] == ["BETA-SECRET toner"]
    with app.app_context(), system():
        demo_member = db.session.scalar(
            sa.select(Membership.id).where(Membership.workspace_id == demo)
        )
    resp = api(
        secret,
        "POST",
        f"/api/v1/instances/{body['items'][0]['instance_id']}/commands",
        json={"command": "transfer", "task_id": 1, "assignees": [demo_member]},
    )
    assert resp.status_code == 422  # A's member is nobody in B: never assigned there
    assert list(resp.get_json()["errors"]) == ["assignees"]


# --- the approval flow --------------------------------------------------------------------------


def test_a_full_approval_over_the_api(app, demo, api, token_for):
    staff, head = token_for("staff"), token_for("dept_head")
    resp = api(
        staff,
        "POST",
        "/api/v1/requests",
        json={"title": "Printer toner", "amount": "4800.5", "urgency": "high", "reason": "Empty"},
    )
    assert resp.status_code == 201
    req = resp.get_json()
    assert (
        req["amount"] == "4800.50" and req["status"] == "draft" and req["number"].startswith("GR-")
    )
    assert resp.headers["Location"].endswith(f"/api/v1/requests/{req['id']}")

    resp = api(staff, "POST", f"/api/v1/requests/{req['id']}/submit")
    assert resp.status_code == 200
    result = resp.get_json()["result"]
    assert result["status"] == "running" and resp.get_json()["request"]["status"] == "submitted"
    instance_id = result["instance_id"]

    todo = api(head, "GET", "/api/v1/tasks?tab=todo").get_json()
    assert [t["instance_id"] for t in todo["items"]] == [instance_id]
    assert todo["items"][0]["instance"]["title"].endswith("Printer toner")
    assert todo["counts"]["todo"] == 1

    detail = api(head, "GET", f"/api/v1/instances/{instance_id}").get_json()
    assert detail["status"] == "running"
    assert [(c["node"], [a["name"] for a in c["assignees"]]) for c in detail["current"]] == [
        ("dept_head", ["dept_head"])
    ]
    assert detail["values"]["amount"] == "4800.50"
    task_id = detail["my_open_task_ids"][0]

    resp = api(
        head,
        "POST",
        f"/api/v1/instances/{instance_id}/commands",
        json={
            "command": "approve",
            "task_id": task_id,
            "comment": "OK",
            "expected_version": detail["version"],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["result"]["status"] == "approved" and body["result"]["replayed"] is False
    assert body["instance"]["current"] == []
    assert api(staff, "GET", f"/api/v1/requests/{req['id']}").get_json()["status"] == "approved"
    timeline = api(staff, "GET", f"/api/v1/instances/{instance_id}").get_json()["timeline"]
    actions = [(e["action"], (e["actor"] or {}).get("name")) for e in timeline]
    assert ("wf.submitted", "staff") in actions and ("wf.approve", "dept_head") in actions


def test_someone_outside_the_process_cannot_see_or_act_on_it(app, demo, api, token_for):
    staff, finance = token_for("staff"), token_for("finance")
    instance_id = submitted(api, staff, "100.00")["result"]["instance_id"]
    assert api(finance, "GET", f"/api/v1/instances/{instance_id}").status_code == 404
    resp = api(
        finance, "POST", f"/api/v1/instances/{instance_id}/commands", json={"command": "comment"}
    )
    assert resp.status_code == 404


def test_a_stale_version_is_409_and_changes_nothing(app, demo, api, token_for):
    staff, head = token_for("staff"), token_for("dept_head")
    instance_id = submitted(api, staff)["result"]["instance_id"]
    detail = api(head, "GET", f"/api/v1/instances/{instance_id}").get_json()
    resp = api(
        head,
        "POST",
        f"/api/v1/instances/{instance_id}/commands",
        json={
            "command": "approve",
            "task_id": detail["my_open_task_ids"][0],
            "expected_version": detail["version"] - 1,
        },
    )
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["error"] == "stale" and body["details"] == {"version": detail["version"]}
    from suite.workflow.views import refusal_message

    # Translated like the pages: the user's language, else the workspace's (the demo's: zh_CN).
    with app.test_request_context(), force_locale("zh_CN"):
        assert body["message"] == refusal_message("stale")
    with app.app_context(), use_workspace(demo):
        _member("dept_head").user.locale = "en"
        db.session.commit()
    resp = api(
        head,
        "POST",
        f"/api/v1/instances/{instance_id}/commands",
        json={"command": "approve", "expected_version": 0},
    )
    assert resp.status_code == 409 and "meantime" in resp.get_json()["message"]
    after = api(head, "GET", f"/api/v1/instances/{instance_id}").get_json()
    assert after["version"] == detail["version"] and after["status"] == "running"


def test_reject_without_a_comment_is_422(app, demo, api, token_for):
    staff, head = token_for("staff"), token_for("dept_head")
    instance_id = submitted(api, staff)["result"]["instance_id"]
    task_id = open_task(api, head, instance_id)
    url = f"/api/v1/instances/{instance_id}/commands"
    resp = api(head, "POST", url, json={"command": "reject", "task_id": task_id})
    assert resp.status_code == 422
    assert resp.get_json()["error"] == "comment_required"
    assert resp.get_json()["details"] == {"action": "reject"}
    resp = api(head, "POST", url, json={"command": "reject", "task_id": task_id, "comment": "No"})
    assert resp.status_code == 200 and resp.get_json()["result"]["status"] == "rejected"


def test_send_back_then_resubmit_over_the_api(app, demo, api, token_for):
    staff, head = token_for("staff"), token_for("dept_head")
    instance_id = submitted(api, staff)["result"]["instance_id"]
    url = f"/api/v1/instances/{instance_id}/commands"
    back = {"command": "send_back", "task_id": open_task(api, head, instance_id)}
    back |= {"target": "submit", "comment": "Add the quote"}
    assert api(head, "POST", url, json=back).status_code == 200
    todo = api(staff, "GET", "/api/v1/tasks").get_json()["items"]
    assert [(t["kind"], t["node"]) for t in todo] == [("edit", "submit")]
    again = {"command": "resubmit", "task_id": todo[0]["id"]}
    resp = api(staff, "POST", url, json=again)
    assert resp.status_code == 200 and resp.get_json()["result"]["status"] == "running"
    assert [c["node"] for c in resp.get_json()["instance"]["current"]] == ["dept_head"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"command": "remind"}, "command"),  # the system's, not a person's
        ({"command": "approve", "task_id": "7"}, "task_id"),
        ({"command": "approve", "expected_version": True}, "expected_version"),
        ({"command": "transfer", "assignees": "3"}, "assignees"),
        ({"command": "transfer", "assignees": [999999]}, "assignees"),
        ({"command": "send_back", "resume": "later"}, "resume"),
        ({"command": "approve", "key": "k" * 101}, "key"),
        ({"command": "approve", "surprise": 1}, "surprise"),
    ],
)
def test_bad_command_input_is_422_with_the_field(app, demo, api, token_for, body, field):
    staff = token_for("staff")
    instance_id = submitted(api, staff)["result"]["instance_id"]
    resp = api(staff, "POST", f"/api/v1/instances/{instance_id}/commands", json=body)
    assert resp.status_code == 422
    assert list(resp.get_json()["errors"]) == [field]


def test_a_repeated_key_is_answered_once(app, demo, api, token_for):
    staff, head = token_for("staff"), token_for("dept_head")
    first_id = submitted(api, staff, "6000.00")["result"]["instance_id"]
    task_id = open_task(api, head, first_id)
    url = f"/api/v1/instances/{first_id}/commands"
    body = {"command": "approve", "task_id": task_id, "key": "click-1"}
    one = api(head, "POST", url, json=body).get_json()["result"]
    two = api(head, "POST", url, json=body).get_json()["result"]
    assert one["replayed"] is False and two["replayed"] is True
    assert (one["version"], one["status"]) == (two["version"], two["status"])
    with app.app_context(), system():
        approvals = db.session.scalar(
            sa.select(sa.func.count(WorkflowTask.id)).where(
                WorkflowTask.instance_id == first_id, WorkflowTask.status == "approved"
            )
        )
    assert approvals == 1
    # Keys belong to their sender: finance's "click-1" is a new command, not dept_head's answer.
    finance = token_for("finance")
    task_id = open_task(api, finance, first_id)
    mine = api(finance, "POST", url, json={**body, "task_id": task_id}).get_json()["result"]
    assert mine["replayed"] is False and mine["status"] == "approved"


def test_submit_with_a_key_is_safe_to_retry(app, demo, api, token_for):
    staff = token_for("staff")
    req = new_request(api, staff)
    url = f"/api/v1/requests/{req['id']}/submit"
    one = api(staff, "POST", url, json={"key": "s-1"})
    two = api(staff, "POST", url, json={"key": "s-1"})
    assert one.status_code == two.status_code == 200
    assert two.get_json()["result"] == {**one.get_json()["result"], "replayed": True}
    again = api(staff, "POST", url)
    assert again.status_code == 409 and again.get_json()["error"] == "refused"


def test_inbox_tabs_counts_and_keyset_pagination(app, demo, api, token_for):
    from suite.workflow.views import inbox_counts  # the web inbox

    staff, head = token_for("staff"), token_for("dept_head")
    instances = [
        submitted(api, staff, "100.00", f"Item {n}")["result"]["instance_id"] for n in range(3)
    ]
    page1 = api(head, "GET", "/api/v1/tasks?tab=todo&limit=2").get_json()
    assert page1["counts"] == {"todo": 3, "done": 0, "started": 0, "cc": 0}
    assert [t["instance_id"] for t in page1["items"]] == instances[:0:-1]  # newest first
    assert page1["next_after"] == page1["items"][-1]["id"]
    page2 = api(head, "GET", f"/api/v1/tasks?tab=todo&limit=2&after={page1['next_after']}")
    page2 = page2.get_json()
    assert [t["instance_id"] for t in page2["items"]] == instances[:1]
    assert page2["next_after"] is None

    task_id = page2["items"][0]["id"]
    url = f"/api/v1/instances/{instances[0]}/commands"
    assert (
        api(head, "POST", url, json={"command": "approve", "task_id": task_id}).status_code == 200
    )
    counts = api(head, "GET", "/api/v1/tasks?tab=done").get_json()
    assert counts["counts"] == {"todo": 2, "done": 1, "started": 0, "cc": 1}
    assert [t["id"] for t in counts["items"]] == [task_id]
    cc = api(head, "GET", "/api/v1/tasks?tab=cc").get_json()["items"]
    assert [(t["kind"], t["instance_id"]) for t in cc] == [("cc", instances[0])]
    started = api(staff, "GET", "/api/v1/tasks?tab=started").get_json()
    assert [i["id"] for i in started["items"]] == instances[::-1]
    assert started["items"][0]["initiator"]["name"] == "staff"
    with app.app_context(), use_workspace(demo):
        for login, token in (("staff", staff), ("dept_head", head)):
            mine = api(token, "GET", "/api/v1/tasks").get_json()["counts"]
            assert mine == inbox_counts(_member(login).id)  # the web inbox's numbers
    for query in ("tab=later", "limit=0", "limit=101", "after=x"):
        assert api(head, "GET", f"/api/v1/tasks?{query}").status_code == 422, query


# --- general requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Toner", "amount": 12.5}, "amount"),  # a float: never
        ({"title": "Toner", "amount": "12.345"}, "amount"),
        ({"title": "Toner", "amount": "-1"}, "amount"),
        ({"title": "Toner", "amount": "1e3"}, "amount"),
        ({"title": "  "}, "title"),
        ({"amount": "1.00"}, "title"),
        ({"title": "Toner", "urgency": "asap"}, "urgency"),
        ({"title": "Toner", "price": "1.00"}, "price"),
    ],
)
def test_request_input_is_validated_and_money_is_a_string(app, demo, api, token_for, body, field):
    resp = api(token_for("staff"), "POST", "/api/v1/requests", json=body)
    assert resp.status_code == 422
    assert list(resp.get_json()["errors"]) == [field]


def test_requests_list_newest_first_with_amounts_as_strings(app, demo, api, token_for):
    staff = token_for("staff")
    made = [new_request(api, staff, amount, f"R{amount}") for amount in ("1", "2.5", "30.25")]
    page = api(staff, "GET", "/api/v1/requests?limit=2").get_json()
    assert [r["amount"] for r in page["items"]] == ["30.25", "2.50"]
    rest = api(staff, "GET", f"/api/v1/requests?after={page['next_after']}").get_json()
    assert [r["id"] for r in rest["items"]] == [made[0]["id"]] and rest["next_after"] is None
    assert api(token_for("finance"), "GET", "/api/v1/requests").get_json()["items"] == []
    assert api(token_for("finance"), "GET", f"/api/v1/requests/{made[0]['id']}").status_code == 404


def test_requests_need_the_create_permission(app, make_workspace, make_member, api, token_for):
    ws = make_workspace("plain")
    make_member(ws, "viewer", roles=())
    secret = token_for("viewer")
    assert api(secret, "GET", "/api/v1/me").status_code == 200
    resp = api(secret, "POST", "/api/v1/requests", json={"title": "x"})
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"


# --- the OpenAPI document -----------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_documents_every_route(app, api):
    from openapi_spec_validator import validate

    resp = api(None, "GET", "/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    validate(doc)
    assert doc["info"]["title"] == "Shunliu API"
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token.",
    }
    assert doc["security"] == [{"bearer": []}]
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method)
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert routes == documented
    for path, method in documented:
        op = doc["paths"][path][method]
        assert op["summary"] and op["operationId"], (path, method)
        ok = [r for code, r in op["responses"].items() if str(code).startswith("2")]
        # JSON, or a file (a checklist photo) documented with its media type
        assert ok and all(all("schema" in c for c in r["content"].values()) for r in ok), path
        if path != "/api/v1/openapi.json":
            assert "401" in {str(c) for c in op["responses"]}, (path, method)
    assert doc["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_the_docs_page_lists_the_endpoints_without_outside_assets(app, client):
    resp = client.get("/api/docs", headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for path in ("/api/v1/me", "/api/v1/tasks", "/api/v1/instances/{process_instance_id}"):
        assert path in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_answers_match_the_documented_schemas(app, demo, api, token_for):
    check = spec_checker(api)
    staff, head = token_for("staff"), token_for("dept_head")
    check(api(staff, "GET", "/api/v1/me"), 200, "/api/v1/me")
    req = check(
        api(staff, "POST", "/api/v1/requests", json={"title": "T", "amount": "6000"}),
        201,
        "/api/v1/requests",
        "post",
    )
    ids = f"/api/v1/requests/{req['id']}"
    check(api(staff, "GET", ids), 200, "/api/v1/requests/{general_request_id}")
    check(api(staff, "GET", "/api/v1/requests"), 200, "/api/v1/requests")
    sub = check(
        api(staff, "POST", f"{ids}/submit"),
        200,
        "/api/v1/requests/{general_request_id}/submit",
        "post",
    )
    instance = f"/api/v1/instances/{sub['result']['instance_id']}"
    for tab in ("todo", "done", "started", "cc"):
        for token in (staff, head):
            check(api(token, "GET", f"/api/v1/tasks?tab={tab}"), 200, "/api/v1/tasks")
    detail = check(api(head, "GET", instance), 200, "/api/v1/instances/{process_instance_id}")
    commands = "/api/v1/instances/{process_instance_id}/commands"
    approve = {"command": "approve", "task_id": detail["my_open_task_ids"][0]}
    check(api(head, "POST", f"{instance}/commands", json=approve), 200, commands, "post")
    check(api(head, "POST", f"{instance}/commands", json=approve), 409, commands, "post")
    check(api(None, "GET", "/api/v1/me"), 401, "/api/v1/me")
    check(api(staff, "GET", "/api/v1/tasks?limit=0"), 422, "/api/v1/tasks")
    check(
        api(staff, "GET", "/api/v1/requests/999999"), 404, "/api/v1/requests/{general_request_id}"
    )
