"""Corrective actions and findings in the JSON API: list, read, fix (base64 photos) and verify
through the workflow kernel, idempotent keys, 422s on the field, answers matching the OpenAPI
document."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from modules.inspections.models import CorrectiveAction, Finding
from modules.inspections.services import findings as finding_services
from suite.api import tokens
from suite.auth.models import Membership
from suite.checklists.models import Checkpoint
from suite.db import db
from suite.tenancy import Workspace, system
from tests.helpers.api import assert_invalid, spec_checker
from tests.modules.inspections.factories import png, submit_run

CA = "/api/v1/corrective-actions/{corrective_action_id}"


@pytest.fixture
def api(new_client):
    client = new_client()

    def call(token, method, url, **kwargs):
        headers = {"Accept-Language": "en"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return client.open(url, method=method, headers=headers, **kwargs)

    return call


@pytest.fixture
def world(insp, inside):
    """Two failed items at checkpoint 1 (two actions), a finding at it; a token per person."""
    with inside():
        with system():
            db.session.get(Workspace, insp["ws"].id).locale = "en"  # messages in English
        point = db.session.get(Checkpoint, insp["points"][0])
        submit_run(point, insp["inspector"], fails=("exits", "doors"))
        finding_services.report(
            point, description="Hose leaking", contact="", photo=None, address="1.2.3.4"
        )
        db.session.commit()
        ids = list(db.session.scalars(sa.select(CorrectiveAction.id).order_by(CorrectiveAction.id)))
        secrets = {
            who: tokens.issue(db.session.get(Membership, insp[who]), "t")[1]
            for who in ("owner", "inspector", "head", "admin")
        }
        db.session.commit()
    return {"ca": ids, "token": secrets, **insp}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_list_and_read_with_the_documented_shapes(world, api):
    check = spec_checker(api)
    owner, head = world["token"]["owner"], world["token"]["head"]
    page = check(api(owner, "GET", "/api/v1/corrective-actions"), 200, "/api/v1/corrective-actions")
    assert [r["id"] for r in page["items"]] == world["ca"][::-1]
    first = page["items"][-1]
    assert first["number"].startswith("CA-") and first["status"] == "open"
    assert (
        first["assignee"]["id"] == world["owner"] and first["verifier"]["id"] == world["inspector"]
    )
    assert first["checkpoint"]["code"] == "FS1" and first["overdue"] is False
    one = check(api(head, "GET", f"/api/v1/corrective-actions/{world['ca'][0]}"), 200, CA)
    assert one["item_key"] == "exits"
    # filters and paging
    got = api(owner, "GET", "/api/v1/corrective-actions?limit=1").get_json()
    assert len(got["items"]) == 1 and got["next_after"] == world["ca"][1]
    closed = api(head, "GET", "/api/v1/corrective-actions?filter=closed").get_json()
    assert closed["items"] == []
    assert_invalid(api(owner, "GET", "/api/v1/corrective-actions?status=bogus"), {"status": None})
    check(api(None, "GET", "/api/v1/corrective-actions"), 401, "/api/v1/corrective-actions")
    check(api(owner, "GET", "/api/v1/corrective-actions/999999"), 404, CA)


def test_fix_then_verify_over_the_api(world, api, inside):
    check = spec_checker(api)
    owner, inspector = world["token"]["owner"], world["token"]["inspector"]
    ca_id = world["ca"][0]
    fix, verify = (
        f"/api/v1/corrective-actions/{ca_id}/fix",
        f"/api/v1/corrective-actions/{ca_id}/verify",
    )
    fix_path, verify_path = CA + "/fix", CA + "/verify"
    # bad input: 422 on the field, nothing written
    assert_invalid(
        api(owner, "POST", fix, json={"note": "done"}), {"photos": "Add a photo of the fix."}
    )
    assert_invalid(
        api(owner, "POST", fix, json={"note": " ", "photos": [{"data": b64(png())}]}),
        {"note": "Describe what was done."},
    )
    assert_invalid(
        api(owner, "POST", fix, json={"note": "x", "photos": [{"data": "not base64!"}]}),
        {"photos[0]": "Send the photo as base64."},
    )
    resp = api(owner, "POST", fix, json={"note": "x", "photos": [{"data": b64(b"GIF89a no")}]})
    check(resp, 422, fix_path, "post")
    assert list(resp.get_json()["errors"]) == ["photo"]
    assert_invalid(api(owner, "POST", fix, json={"note": "x", "extra": 1}), {"extra": None})
    # the inspector cannot record the area owner's fix
    resp = api(inspector, "POST", fix, json={"note": "x", "photos": [{"data": b64(png())}]})
    assert check(resp, 409, fix_path, "post")["error"] == "refused"
    with inside():
        assert db.session.get(CorrectiveAction, ca_id).status == "open"
    body = {"note": "Boxes moved", "photos": [{"name": "a.png", "data": b64(png())}], "key": "f1"}
    done = check(api(owner, "POST", fix, json=body), 200, fix_path, "post")
    assert done["replayed"] is False and done["corrective_action"]["status"] == "fixed"
    assert len(done["corrective_action"]["fix_photo_ids"]) == 1
    again = check(api(owner, "POST", fix, json=body), 200, fix_path, "post")
    assert again["replayed"] is True and again["corrective_action"]["status"] == "fixed"
    # verification: not fixed needs a comment; then fixed closes it
    assert_invalid(api(inspector, "POST", verify, json={"result": "maybe"}), {"result": None})
    assert_invalid(
        api(inspector, "POST", verify, json={"result": "not_fixed"}),
        {"comment": "Say what is still wrong."},
    )
    back = check(
        api(inspector, "POST", verify, json={"result": "not_fixed", "comment": "still there"}),
        200,
        verify_path,
        "post",
    )
    assert back["corrective_action"]["status"] == "open"
    body["key"] = "f2"
    check(api(owner, "POST", fix, json=body), 200, fix_path, "post")
    closed = check(
        api(inspector, "POST", verify, json={"result": "fixed", "key": "v9"}),
        200,
        verify_path,
        "post",
    )
    assert closed["corrective_action"]["status"] == "closed"
    assert closed["corrective_action"]["closed_at"]
    with inside():
        ca = db.session.get(CorrectiveAction, ca_id)
        assert (ca.status, ca.fix_note) == ("closed", "Boxes moved")
        assert db.session.scalar(sa.select(sa.func.count(CorrectiveAction.id))) == 2


def test_findings_over_the_api(world, api, inside):
    check = spec_checker(api)
    inspector, owner = world["token"]["inspector"], world["token"]["owner"]
    page = check(api(inspector, "GET", "/api/v1/findings"), 200, "/api/v1/findings")
    (f,) = page["items"]
    assert (f["description"], f["status"], f["checkpoint"]["code"]) == (
        "Hose leaking",
        "new",
        "FS1",
    )
    one = f"/api/v1/findings/{f['id']}"
    check(api(inspector, "GET", one), 200, "/api/v1/findings/{finding_id}")
    check(api(owner, "GET", "/api/v1/findings"), 403, "/api/v1/findings")
    conv = check(
        api(inspector, "POST", one + "/convert"),
        200,
        "/api/v1/findings/{finding_id}/convert",
        "post",
    )
    assert conv["status"] == "converted" and conv["corrective_action_id"]
    check(
        api(inspector, "POST", one + "/dismiss"),
        409,
        "/api/v1/findings/{finding_id}/dismiss",
        "post",
    )
    with inside():
        assert db.session.get(Finding, f["id"]).status == "converted"
        ca = db.session.get(CorrectiveAction, conv["corrective_action_id"])
        assert (ca.description, ca.assignee_id) == ("Hose leaking", world["owner"])
    assert (
        api(inspector, "GET", "/api/v1/findings?status=converted").get_json()["items"][0]["id"]
        == f["id"]
    )
