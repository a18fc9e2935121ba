"""The anonymous report behind a checkpoint's QR code (`/q/<token>/report`) and the inspectors'
triage list: a finding becomes a corrective action or is dismissed."""

from __future__ import annotations

import io

import sqlalchemy as sa

from modules.inspections.models import CorrectiveAction, Finding
from suite.db import db
from suite.files import StoredFile
from suite.workflow.models import WorkflowTask
from tests.modules.inspections.factories import png


def visitor(new_client, address: str = "127.0.0.1"):
    """A phone without a session, in English, from `address`."""
    c = new_client()
    c.environ_base.update({"HTTP_ACCEPT_LANGUAGE": "en", "REMOTE_ADDR": address})
    return c


def report_url(token: str) -> str:
    return f"/q/{token}/report"


def findings(inside) -> list[Finding]:
    with inside():
        rows = list(db.session.scalars(sa.select(Finding).order_by(Finding.id)))
        for r in rows:
            db.session.expunge(r)
        return rows


def test_a_visitor_reports_a_problem_with_a_photo(insp, inside, new_client):
    c = visitor(new_client)
    url = report_url(insp["tokens"][0])
    page = c.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Stairwell 1" in html and 'name="website"' in html
    resp = c.form(
        url,
        {
            "description": "  Extinguisher missing by the stairs  ",
            "contact": "138 0000 0000",
            "photo": (io.BytesIO(png()), "p.png"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200 and "passed on to the inspectors" in resp.get_data(as_text=True)
    (f,) = findings(inside)
    assert (f.description, f.contact, f.status, f.address) == (
        "Extinguisher missing by the stairs",
        "138 0000 0000",
        "new",
        "127.0.0.1",
    )
    assert f.checkpoint_id == insp["points"][0] and len(f.photo_ids) == 1
    with inside():
        stored = db.session.get(StoredFile, f.photo_ids[0])
        assert stored.content_type == "image/png"


def test_bad_reports_get_the_message_next_to_the_field_and_keep_nothing(insp, inside, new_client):
    c = visitor(new_client)
    url = report_url(insp["tokens"][0])
    resp = c.form(url, {"description": "   ", "contact": "me"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="err-description"' in html and "Describe the problem." in html
    assert 'value="me"' in html  # what was typed stays
    resp = c.form(
        url,
        {"description": "smoke", "photo": (io.BytesIO(b"not an image"), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and 'id="err-photo"' in resp.get_data(as_text=True)
    resp = c.form(url, {"description": "x" * 2001})
    assert resp.status_code == 422 and "At most 2000 characters." in resp.get_data(as_text=True)
    assert findings(inside) == []
    with inside():
        assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0


def test_the_honeypot_thanks_a_bot_and_keeps_nothing(insp, inside, new_client):
    c = visitor(new_client)
    resp = c.form(
        report_url(insp["tokens"][0]), {"description": "buy pills", "website": "http://spam"}
    )
    assert resp.status_code == 200 and "passed on to the inspectors" in resp.get_data(as_text=True)
    assert findings(inside) == []


def test_five_reports_an_hour_per_address_then_429(insp, inside, new_client):
    c = visitor(new_client)
    url = report_url(insp["tokens"][0])
    for n in range(5):
        resp = c.form(url, {"description": f"leak {n}"})
        assert resp.status_code == 200, n
    resp = c.form(url, {"description": "leak 5"})
    assert resp.status_code == 429
    assert "Too many reports" in resp.get_data(as_text=True)
    # another address is not held back by this one
    other = visitor(new_client, "10.0.0.9")
    assert other.form(url, {"description": "leak from elsewhere"}).status_code == 200
    rows = findings(inside)
    assert len(rows) == 6
    assert sorted({r.address for r in rows}) == ["10.0.0.9", "127.0.0.1"]


def test_unknown_revoked_and_closed_checkpoints_answer_a_clear_404(insp, inside, new_client):
    c = visitor(new_client)
    cases = {
        "no-such-token": "This QR code is not known.",
        insp["old_token"]: "This label is no longer valid.",
        insp["tokens"][1]: "Problems cannot be reported here.",  # anonymous reports off
    }
    for token, message in cases.items():
        for resp in (c.get(report_url(token)), c.form(report_url(token), {"description": "x"})):
            assert resp.status_code == 404, token
            assert message in resp.get_data(as_text=True)
    assert c.get(report_url("x" * 500)).status_code == 404
    # the live token of the re-labelled checkpoint still works
    assert c.get(report_url(insp["tokens"][2])).status_code == 200
    assert findings(inside) == []


def _report(c, insp, text):
    assert c.form(report_url(insp["tokens"][0]), {"description": text}).status_code == 200


def test_an_inspector_turns_a_finding_into_a_corrective_action(insp, inside, new_client, login_as):
    phone = visitor(new_client)
    _report(phone, insp, "Fire door wedged open")
    _report(phone, insp, "Looks fine actually")
    first, second = findings(inside)
    c = visitor(new_client)
    login_as(c, "inspector")
    assert c.form("/language", {"locale": "en"}).status_code == 303
    page = c.get("/inspections/findings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Fire door wedged open" in html and "Looks fine actually" in html
    frag = c.htmx("GET", "/inspections/findings", target="finding-rows")
    assert frag.status_code == 200 and "<html" not in frag.get_data(as_text=True)
    assert 'id="finding-rows"' in frag.get_data(as_text=True)
    resp = c.form(f"/inspections/findings/{first.id}/convert")
    assert resp.status_code == 303
    with inside():
        f = db.session.get(Finding, first.id)
        ca = db.session.get(CorrectiveAction, f.corrective_action_id)
        assert (f.status, f.handled_by_id) == ("converted", insp["inspector"])
        assert (ca.description, ca.assignee_id, ca.verifier_id) == (
            "Fire door wedged open",
            insp["owner"],
            insp["inspector"],
        )
        assert ca.run_id is None and ca.status == "open"
        task = db.session.scalar(
            sa.select(WorkflowTask).where(
                WorkflowTask.instance_id == ca.instance_id, WorkflowTask.status == "open"
            )
        )
        assert (task.node, task.assignee_id) == ("fix", insp["owner"])
    assert resp.headers["Location"].endswith(f"/inspections/actions/{ca.id}")
    assert c.form(f"/inspections/findings/{second.id}/dismiss").status_code == 303
    # handled once: a second click changes nothing and says so
    resp = c.form(f"/inspections/findings/{second.id}/convert", follow_redirects=True)
    assert "This finding has been handled already." in resp.get_data(as_text=True)
    with inside():
        assert db.session.get(Finding, second.id).status == "dismissed"
        assert db.session.scalar(sa.select(sa.func.count(CorrectiveAction.id))) == 1
    assert "Fire door wedged open" not in c.get("/inspections/findings").get_data(as_text=True)
    dismissed = c.get("/inspections/findings?status=dismissed").get_data(as_text=True)
    assert "Looks fine actually" in dismissed


def test_findings_are_for_inspectors_only(insp, new_client, login_as):
    c = visitor(new_client)
    login_as(c, "owner")
    assert c.get("/inspections/findings").status_code == 403
    assert c.form("/inspections/findings/1/dismiss").status_code in (403, 404)


def test_a_visitor_scanning_a_label_that_takes_reports_can_choose_report_or_log_in(
    insp, new_client
):
    c = visitor(new_client)
    token = insp["tokens"][0]  # anonymous reports on
    page = c.get(f"/q/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="{report_url(token)}"' in html
    assert f"/login?next=/q/{token}" in html.replace("%2F", "/")
    # reports off: straight to the login page, nothing about reporting
    off = c.get(f"/q/{insp['tokens'][1]}")
    assert off.status_code == 302 and "/login" in off.headers["Location"]
