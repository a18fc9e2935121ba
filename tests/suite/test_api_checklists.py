"""The checklist kernel over the JSON API: templates, checkpoints, runs (start, answer, photo,
submit once), with the pages' permissions and workspace isolation."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from suite.auth.services import save_role
from suite.checklists import services
from suite.checklists.models import ChecklistAnswer, ChecklistRun
from suite.db import db
from suite.tenancy import use_workspace
from tests.helpers.api import assert_invalid, spec_checker
from tests.suite.checklist_helpers import build_template, png
from tests.suite.test_api import make_token
from tests.suite.test_tenancy import rows_of

T = "/api/v1/checklist-templates"
P = "/api/v1/checkpoints"
R = "/api/v1/checklist-runs"


@pytest.fixture
def api(new_client):
    client = new_client()

    def call(token, method, url, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        headers.setdefault("Accept-Language", "en")
        return client.open(url, method=method, headers=headers, **kwargs)

    return call


def _role(app, ws, code, permissions):
    with app.app_context(), use_workspace(ws.id):
        save_role(
            None,
            code=code,
            name=code,
            permissions=permissions,
            registry=app.extensions["suite.registry"],
        )
        db.session.commit()


@pytest.fixture
def site(app, make_workspace, make_member):
    """Acme: a published template of every item type, a checkpoint using it, one without a
    template; boss (admin), ivy (inspector), fay (fill only), ada (read only), sam (staff)."""
    ws = make_workspace("acme", "Acme")
    _role(app, ws, "t.filler", ["suite.checklist.fill"])
    _role(app, ws, "t.auditor", ["suite.checklist.read"])
    make_member(ws, "boss", roles=("suite.admin",))
    ivy = make_member(ws, "ivy", roles=("inspections.inspector",))
    make_member(ws, "fay", roles=("t.filler",))
    make_member(ws, "ada", roles=("t.auditor",))
    make_member(ws, "sam", roles=("suite.staff",))
    with app.app_context(), use_workspace(ws.id):
        template, keys = build_template("Fire round")
        point = services.save_checkpoint(
            None, name="Warehouse", code="FS-01", template_id=template.id, owner_id=ivy
        )
        from suite.auth.models import User

        for user in db.session.scalars(sa.select(User)):
            user.locale = "en"  # the assertions read English
        bare = services.save_checkpoint(
            None, name="Gate", code="GT-01", template_id=None, owner_id=None
        )
        db.session.commit()
        info = {"ws": ws, "template": template.id, "point": point.id, "bare": bare.id}
        info |= {"token": point.token, "keys": keys}
    info["tokens"] = {
        login: make_token(app, login) for login in ("boss", "ivy", "fay", "ada", "sam")
    }
    return info


def _start(api, site, who="ivy", point=None):
    return api(site["tokens"][who], "POST", f"{P}/{point or site['point']}/runs")


def _ok_answers(site):
    k = site["keys"]
    return {
        k["pass_fail"]: {"result": "pass"},
        k["yes_no"]: {"result": "yes"},
        k["number"]: {"value": "1.2"},
    }


# --- authentication and permissions -------------------------------------------------------------


def _routes(site, run_id):
    return [
        ("GET", T),
        ("GET", f"{T}/{site['template']}"),
        ("GET", P),
        ("GET", f"{P}/{site['point']}"),
        ("POST", f"{P}/{site['point']}/runs"),
        ("GET", R),
        ("GET", f"{R}/{run_id}"),
        ("POST", f"{R}/{run_id}/answers"),
        ("POST", f"{R}/{run_id}/items/i1/photos"),
        ("POST", f"{R}/{run_id}/submit"),
        ("GET", f"{R}/{run_id}/files/1"),
    ]


def test_every_checklist_route_needs_a_token_and_staff_get_403(app, site, api):
    run_id = _start(api, site).get_json()["id"]
    for method, url in _routes(site, run_id):
        resp = api(None, method, url, json={})
        assert resp.status_code == 401, (method, url)
        assert resp.get_json()["error"] == "unauthorized"
        resp = api(site["tokens"]["sam"], method, url, json={})
        assert resp.status_code == 403, (method, url, resp.status_code)
        assert resp.get_json()["error"] == "forbidden"


def test_designers_readers_and_inspectors_see_what_the_pages_show_them(app, site, api):
    tok = site["tokens"]
    # templates: designers and readers; an inspector without read may not list them
    assert api(tok["ada"], "GET", T).status_code == 200
    assert api(tok["fay"], "GET", T).status_code == 403
    # checkpoints: the token and QR URL only for designers and fillers
    for who, sees in (("boss", True), ("ivy", True), ("fay", True), ("ada", False)):
        body = api(tok[who], "GET", f"{P}/{site['point']}").get_json()
        assert ("token" in body) is sees, who
        assert ("scan_url" in body) is sees, who
        listed = api(tok[who], "GET", P).text
        assert (site["token"] in listed) is sees, who
    body = api(tok["ivy"], "GET", f"{P}/{site['point']}").get_json()
    assert body["token"] == site["token"]
    assert body["scan_url"].endswith(f"/q/{site['token']}")
    # runs: a reader may not start one; fill-only may not read another's run
    assert _start(api, site, "ada").status_code == 403
    run_id = _start(api, site, "ivy").get_json()["id"]
    assert api(tok["fay"], "GET", f"{R}/{run_id}").status_code == 403
    assert api(tok["ada"], "GET", f"{R}/{run_id}").status_code == 200
    # another's draft is not theirs to answer or submit (404, as on the pages)
    for url in (f"{R}/{run_id}/answers", f"{R}/{run_id}/submit"):
        assert api(tok["boss"], "POST", url, json={"answers": {"i1": {}}}).status_code == 404


@pytest.fixture
def beta(app, make_workspace, make_member):
    """Workspace B with a template, a checkpoint, a draft run and a submitted one."""
    b = make_workspace("beta", "BETA-SECRET Co")
    staff = make_member(b, "beta_ivy", roles=("inspections.inspector",))
    with app.app_context(), use_workspace(b.id):
        from suite.auth.models import Membership

        me = db.session.get(Membership, staff)
        template, keys = build_template("BETA-SECRET round")
        point = services.save_checkpoint(
            None, name="BETA-SECRET door", code="B-1", template_id=template.id, owner_id=None
        )
        run = services.open_run(point, me)
        for key, parts in {
            keys["pass_fail"]: {"result": "pass"},
            keys["yes_no"]: {"result": "yes"},
            keys["number"]: {"value": "1.1"},
        }.items():
            services.save_answer(run, key, **parts)
        services.submit(run, me, key="beta-run")
        draft = services.open_run(point, me)
        db.session.commit()
        ids = {"template": template.id, "point": point.id, "run": run.id, "draft": draft.id}
    return b, ids


def test_another_workspaces_ids_are_404_and_its_rows_stay_out_of_the_lists(app, site, beta, api):
    b, ids = beta
    boss = site["tokens"]["boss"]
    before = rows_of(app, b.id)
    urls = [
        ("GET", f"{T}/{ids['template']}"),
        ("GET", f"{P}/{ids['point']}"),
        ("POST", f"{P}/{ids['point']}/runs"),
    ]
    for run in (ids["run"], ids["draft"]):
        urls += [
            ("GET", f"{R}/{run}"),
            ("POST", f"{R}/{run}/answers"),
            ("POST", f"{R}/{run}/items/i1/photos"),
            ("POST", f"{R}/{run}/submit"),
            ("GET", f"{R}/{run}/files/1"),
        ]
    for method, url in urls:
        resp = api(boss, method, url, json={"answers": {"i1": {"result": "fail"}}})
        assert resp.status_code == 404, (method, url, resp.status_code)
        assert resp.get_json()["error"] == "not_found"
    for url in (T, P, R, f"{R}?checkpoint_id={ids['point']}", f"{P}?template_id={ids['template']}"):
        resp = api(boss, "GET", url)
        assert resp.status_code == 200
        assert "BETA-SECRET" not in resp.text
    assert rows_of(app, b.id) == before


# --- templates and checkpoints ------------------------------------------------------------------


def test_templates_list_and_detail_with_the_current_spec(app, site, api):
    check = spec_checker(api)
    tok = site["tokens"]["boss"]
    with app.app_context(), use_workspace(site["ws"].id):
        draft_only, _keys = build_template("Draft only", publish=False)
        db.session.commit()
        draft_id = draft_only.id
    page = check(api(tok, "GET", T), 200, T)
    assert [t["name"] for t in page["items"]] == ["Draft only", "Fire round"]
    assert "spec" not in (page["items"][1]["current_version"] or {})
    detail = check(api(tok, "GET", f"{T}/{site['template']}"), 200, T + "/{checklist_template_id}")
    assert detail["current_version"]["number"] == 1
    items = [i for s in detail["current_version"]["spec"]["sections"] for i in s["items"]]
    assert [i["type"] for i in items][:3] == ["pass_fail", "yes_no", "number"]
    assert items[2] | {"min": "1.0", "max": "1.4", "unit": "MPa"} == items[2]
    assert api(tok, "GET", f"{T}/{draft_id}").get_json()["current_version"] is None
    one = api(tok, "GET", f"{T}?limit=1").get_json()
    assert [t["id"] for t in one["items"]] == [draft_id]
    rest = api(tok, "GET", f"{T}?limit=1&after={one['next_after']}").get_json()
    assert [t["id"] for t in rest["items"]] == [site["template"]]
    assert rest["next_after"] is None
    assert_invalid(api(tok, "GET", f"{T}?active=maybe"), {"active": None})
    assert api(tok, "GET", f"{T}/999999").status_code == 404


def test_checkpoints_list_filters_and_detail(app, site, api):
    check = spec_checker(api)
    tok = site["tokens"]["ivy"]
    page = check(api(tok, "GET", P), 200, P)
    assert [p["code"] for p in page["items"]] == ["GT-01", "FS-01"]
    only = api(tok, "GET", f"{P}?template_id={site['template']}").get_json()
    assert [p["code"] for p in only["items"]] == ["FS-01"]
    assert only["items"][0]["template"] == {"id": site["template"], "name": "Fire round"}
    assert only["items"][0]["owner"]["name"] == "Ivy"
    detail = check(api(tok, "GET", f"{P}/{site['point']}"), 200, P + "/{checkpoint_id}")
    assert detail["code"] == "FS-01"
    check(api(site["tokens"]["ada"], "GET", f"{P}/{site['point']}"), 200, P + "/{checkpoint_id}")
    assert_invalid(api(tok, "GET", f"{P}?template_id=x"), {"template_id": None})
    assert api(tok, "GET", f"{P}/999999").status_code == 404


# --- runs ---------------------------------------------------------------------------------------


def test_start_resumes_my_draft_and_refuses_a_checkpoint_without_a_checklist(app, site, api):
    check = spec_checker(api)
    path = P + "/{checkpoint_id}/runs"
    first = check(_start(api, site), 201, path, "post")
    resp = _start(api, site)
    assert resp.status_code == 200
    again = check(resp, 200, path, "post")
    assert again["id"] == first["id"]
    assert first["status"] == "draft"
    assert first["number"] is None
    assert first["version"]["number"] == 1
    assert set(first["blocking"]) == {site["keys"][k] for k in ("pass_fail", "yes_no", "number")}
    other = _start(api, site, "boss").get_json()
    assert other["id"] != first["id"]  # each inspector has their own draft
    resp = _start(api, site, point=site["bare"])
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "no_checklist"


def test_answers_are_saved_all_or_nothing_with_errors_per_item(app, site, api):
    check = spec_checker(api)
    tok, k = site["tokens"]["ivy"], site["keys"]
    run = _start(api, site).get_json()["id"]
    url, path = f"{R}/{run}/answers", R + "/{checklist_run_id}/answers"
    body = check(
        api(
            tok,
            "POST",
            url,
            json={
                "answers": {
                    k["number"]: {"value": "1,8"},
                    k["text"]: {"value": " ok ", "note": "n"},
                }
            },
        ),
        200,
        path,
        "post",
    )
    by = {a["item"]: a for a in body["answers"]}
    assert (
        by[k["number"]] | {"number": "1.8", "out_of_range": True, "failed": True} == by[k["number"]]
    )
    assert by[k["text"]]["value"] == "ok"
    bad = {
        k["pass_fail"]: {"result": "maybe"},
        k["number"]: {"value": "abc"},
        k["select"]: {"value": "Night"},
        k["date"]: {"value": "tomorrow"},
        k["yes_no"]: {"result": "yes"},
    }
    resp = check(api(tok, "POST", url, json={"answers": bad}), 422, path, "post")
    assert set(resp["errors"]) == {
        f"answers.{k[t]}" for t in ("pass_fail", "number", "select", "date")
    }
    assert resp["errors"][f"answers.{k['number']}"] == ["Not a valid number."]
    with app.app_context(), use_workspace(site["ws"].id):  # the good yes/no was not kept either
        saved = db.session.scalars(
            sa.select(ChecklistAnswer.item_key).where(ChecklistAnswer.run_id == run)
        )
        assert set(saved) == {k["number"], k["text"]}
    for payload, field in (
        ({}, "answers"),
        ({"answers": {}}, "answers"),
        ({"answers": []}, "answers"),
        ({"answers": {"i999": {"result": "pass"}}}, "answers.i999"),
        ({"answers": {k["text"]: {"colour": "red"}}}, f"answers.{k['text']}"),
        ({"answers": {k["text"]: {"value": 3}}}, f"answers.{k['text']}"),
        ({"answers": {k["text"]: {}}, "extra": 1}, "extra"),
    ):
        assert_invalid(api(tok, "POST", url, json=payload), {field: None})
    assert (
        api(tok, "POST", url, data="not json", content_type="application/json").status_code == 422
    )


def test_photos_are_checked_and_attached(app, site, api):
    tok, key = site["tokens"]["ivy"], site["keys"]["pass_fail"]
    run = _start(api, site).get_json()["id"]
    url = f"{R}/{run}/items/{key}/photos"
    path = R + "/{checklist_run_id}/items/{item_key}/photos"
    check = spec_checker(api)
    import io

    resp = api(tok, "POST", url, data={"photo": (io.BytesIO(b"not an image"), "x.png")})
    check(resp, 422, path, "post")
    assert list(resp.get_json()["errors"]) == ["photo"]
    assert_invalid(api(tok, "POST", url, data={}), {"photo": None})
    app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"] = 200
    try:
        big = png((64, 64), "blue") + b"\0" * 300
        resp = api(tok, "POST", url, data={"photo": (io.BytesIO(big), "big.png")})
        assert_invalid(resp, {"photo": "The photo is too large (at most 0 MB)."})
    finally:
        app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"] = 10 * 1024 * 1024
    resp = api(tok, "POST", url, data={"photo": (io.BytesIO(png()), "fail.png")})
    body = check(resp, 200, path, "post")
    assert len(next(a for a in body["answers"] if a["item"] == key)["photo_ids"]) == 1
    resp = api(
        tok, "POST", f"{R}/{run}/items/i999/photos", data={"photo": (io.BytesIO(png()), "a.png")}
    )
    assert_invalid(resp, {"photo": "This item no longer exists."})
    # the same as JSON with base64, as the inspections API takes photos
    import base64

    data = base64.b64encode(png((16, 16), "green")).decode()
    body = check(api(tok, "POST", url, json={"name": "b.png", "data": data}), 200, path, "post")
    assert len(next(a for a in body["answers"] if a["item"] == key)["photo_ids"]) == 2
    assert_invalid(api(tok, "POST", url, json={"data": "%%%"}), {"data": None})
    assert_invalid(api(tok, "POST", url, json={"data": data, "x": 1}), {"x": None})
    resp = api(tok, "POST", url, json={"data": base64.b64encode(b"text").decode()})
    assert_invalid(resp, {"photo": "This file is not a photo (JPEG, PNG, WebP or GIF)."})
    # the photos come back to whoever may see the run, and only the run's own
    photo_ids = next(a for a in body["answers"] if a["item"] == key)["photo_ids"]
    got = api(tok, "GET", f"{R}/{run}/files/{photo_ids[1]}")
    assert (got.status_code, got.mimetype, got.data) == (200, "image/png", png((16, 16), "green"))
    assert api(site["tokens"]["ada"], "GET", f"{R}/{run}/files/{photo_ids[0]}").status_code == 200
    assert api(site["tokens"]["fay"], "GET", f"{R}/{run}/files/{photo_ids[0]}").status_code == 403
    other = _start(api, site, "boss").get_json()["id"]
    assert (
        api(site["tokens"]["boss"], "GET", f"{R}/{other}/files/{photo_ids[0]}").status_code == 404
    )
    assert api(tok, "GET", f"{R}/{run}/files/999999").status_code == 404


def test_submit_once_with_a_key_scores_and_numbers_the_run(app, site, api):
    check = spec_checker(api)
    tok, k = site["tokens"]["ivy"], site["keys"]
    run = _start(api, site).get_json()["id"]
    url, path = f"{R}/{run}/submit", R + "/{checklist_run_id}/submit"
    # a failed item needs its photo: the refusal names the item, nothing is submitted
    answers = _ok_answers(site) | {k["pass_fail"]: {"result": "fail"}}
    api(tok, "POST", f"{R}/{run}/answers", json={"answers": answers})
    resp = check(api(tok, "POST", url, json={"key": "k-1"}), 422, path, "post")
    assert resp["errors"] == {f"answers.{k['pass_fail']}": ["A failed item needs a photo."]}
    api(tok, "POST", f"{R}/{run}/answers", json={"answers": {k["pass_fail"]: {"result": "pass"}}})
    for body, field in (
        ({"key": ""}, "key"),
        ({"key": "x" * 41}, "key"),
        ({"key": 5}, "key"),
        ({"latitude": "north"}, "latitude"),
        ({"longitude": True}, "longitude"),
        ({"when": "now"}, "when"),
    ):
        assert_invalid(api(tok, "POST", url, json=body), {field: None})
    sent = []
    from suite.checklists.signals import run_submitted

    def receive(run_obj):
        sent.append(run_obj.id)

    run_submitted.connect(receive)
    try:
        body = {"key": "k-1", "latitude": "31.2304", "longitude": 121.4737}
        first = check(api(tok, "POST", url, json=body), 200, path, "post")
        retry = check(api(tok, "POST", url, json=body), 200, path, "post")
    finally:
        run_submitted.disconnect(receive)
    assert first["replayed"] is False
    assert retry["replayed"] is True
    assert first["run"]["number"] == retry["run"]["number"]
    assert re.match(r"^INS-\d{4}-\d{4}$", first["run"]["number"])
    assert (first["run"]["score"], first["run"]["max_score"]) == ("4", "4")
    assert (first["run"]["latitude"], first["run"]["longitude"]) == ("31.2304", "121.4737")
    assert first["run"]["blocking"] == {}
    assert sent == [run]
    # submitted: no second submit without the key, no more answers, no photos
    resp = api(tok, "POST", url, json={})
    assert (resp.status_code, resp.get_json()["error"]) == (409, "submitted")
    resp = api(tok, "POST", url, json={"key": "k-2"})
    assert resp.status_code == 409
    resp = api(tok, "POST", f"{R}/{run}/answers", json={"answers": {k["text"]: {"value": "x"}}})
    check(resp, 409, R + "/{checklist_run_id}/answers", "post")
    resp = api(tok, "POST", f"{R}/{run}/items/{k['photo']}/photos", data={})
    assert resp.status_code == 409
    # the same key on another run is not a replay of this one
    other = _start(api, site).get_json()["id"]
    assert other != run
    resp = api(tok, "POST", f"{R}/{other}/submit", json={"key": "k-1"})
    assert (resp.status_code, resp.get_json()["error"]) == (409, "key_reused")
    with app.app_context(), use_workspace(site["ws"].id):
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ChecklistRun)
                .where(ChecklistRun.status == "submitted")
            )
            == 1
        )


def test_runs_list_filters_by_checkpoint_status_and_date_and_pages(app, site, api):
    check = spec_checker(api)
    ivy, fay, ada = (site["tokens"][w] for w in ("ivy", "fay", "ada"))
    done = _start(api, site).get_json()["id"]
    api(ivy, "POST", f"{R}/{done}/answers", json={"answers": _ok_answers(site)})
    assert api(ivy, "POST", f"{R}/{done}/submit", json={"key": "a"}).status_code == 200
    draft = _start(api, site).get_json()["id"]
    theirs = _start(api, site, "fay").get_json()["id"]
    page = check(api(ada, "GET", R), 200, R)
    assert [r["id"] for r in page["items"]] == [theirs, draft, done]
    assert page["items"][2]["checkpoint"]["code"] == "FS-01"
    assert page["items"][2]["template"]["name"] == "Fire round"
    assert [r["id"] for r in api(fay, "GET", R).get_json()["items"]] == [theirs]  # fill only
    q = api(ada, "GET", f"{R}?status=submitted&checkpoint_id={site['point']}").get_json()
    assert [r["id"] for r in q["items"]] == [done]
    assert api(ada, "GET", f"{R}?checkpoint_id={site['bare']}").get_json()["items"] == []
    with app.app_context(), use_workspace(site["ws"].id):
        from suite.auth.models import Membership, User

        fay_id = db.session.scalar(sa.select(Membership.id).join(User).where(User.login == "fay"))
        import datetime as dt
        from zoneinfo import ZoneInfo

        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    q = api(ada, "GET", f"{R}?inspector_id={fay_id}").get_json()
    assert [r["id"] for r in q["items"]] == [theirs]
    day = today.isoformat()
    assert len(api(ada, "GET", f"{R}?date_from={day}&date_to={day}").get_json()["items"]) == 3
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert api(ada, "GET", f"{R}?date_to={yesterday}").get_json()["items"] == []
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert api(ada, "GET", f"{R}?date_from={tomorrow}").get_json()["items"] == []
    one = api(ada, "GET", f"{R}?limit=2").get_json()
    assert [r["id"] for r in one["items"]] == [theirs, draft]
    two = api(ada, "GET", f"{R}?limit=2&after={one['next_after']}").get_json()
    assert ([r["id"] for r in two["items"]], two["next_after"]) == ([done], None)
    assert_invalid(
        api(ada, "GET", f"{R}?status=all&date_from=13/12&limit=0"),
        {"status": None},
    )
    assert_invalid(api(ada, "GET", f"{R}?date_from=13/12"), {"date_from": "Not a valid date."})
    assert_invalid(api(ada, "GET", f"{R}?limit=0"), {"limit": None})
    detail = check(api(ada, "GET", f"{R}/{done}"), 200, R + "/{checklist_run_id}")
    assert detail["number"] and len(detail["answers"]) == 3
    assert detail["spec"]["sections"][0]["items"][0]["key"] == site["keys"]["pass_fail"]


def test_the_checklist_paths_are_in_the_openapi_document(api):
    doc = api(None, "GET", "/api/v1/openapi.json").get_json()
    for path in (
        T,
        T + "/{checklist_template_id}",
        P,
        P + "/{checkpoint_id}",
        P + "/{checkpoint_id}/runs",
        R,
        R + "/{checklist_run_id}",
        R + "/{checklist_run_id}/answers",
        R + "/{checklist_run_id}/items/{item_key}/photos",
        R + "/{checklist_run_id}/submit",
        R + "/{checklist_run_id}/files/{stored_file_id}",
    ):
        assert path in doc["paths"], path
    assert "ChecklistRunDetail" in doc["components"]["schemas"]
