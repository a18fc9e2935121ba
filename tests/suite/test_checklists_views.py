"""Checklist pages: the QR page (tokens, login, fill, photos, submit), designer, checkpoints."""

from __future__ import annotations

import re
import subprocess

import pytest
import sqlalchemy as sa

from suite.checklists import services
from suite.checklists.models import ChecklistAnswer, ChecklistRun, Checkpoint
from suite.checklists.signals import run_submitted
from suite.db import db
from suite.tenancy import use_workspace
from tests.conftest import have_tools
from tests.suite.checklist_helpers import ALL_TYPES, build_template, png


@pytest.fixture
def site(app, make_workspace, make_member):
    ws = make_workspace("acme", "Acme 公司")
    make_member(ws, "boss", roles=("suite.admin",))
    ivy = make_member(ws, "ivy", roles=("inspections.inspector",))
    make_member(ws, "sam", roles=("suite.staff",))
    with app.app_context(), use_workspace(ws.id):
        template, keys = build_template("Fire round 消防")
        point = services.save_checkpoint(
            None, name="Warehouse 仓库", code="FS-01", template_id=template.id, owner_id=ivy
        )
        from suite.auth.models import User

        for user in db.session.scalars(sa.select(User)):
            user.locale = "en"  # the assertions read English
        db.session.commit()
        info = {"ws": ws, "token": point.token, "point": point.id, "keys": keys}
        info["template"] = template.id
    return info


def _run(app, ws):
    with app.app_context(), use_workspace(ws.id):
        run = db.session.scalar(sa.select(ChecklistRun).order_by(ChecklistRun.id.desc()))
        return run.id if run else None


def _count_runs(app, ws, **where):
    with app.app_context(), use_workspace(ws.id):
        stmt = sa.select(sa.func.count()).select_from(ChecklistRun)
        for k, v in where.items():
            stmt = stmt.where(getattr(ChecklistRun, k) == v)
        return db.session.scalar(stmt)


def test_unknown_token_shows_a_clear_404_page(client):
    resp = client.get("/q/not-a-real-token", headers={"Accept-Language": "en"})
    assert resp.status_code == 404
    assert "Unknown label" in resp.get_data(as_text=True)


def test_revoked_token_says_the_label_is_no_longer_valid(app, site, client, login_as):
    with app.app_context(), use_workspace(site["ws"].id):
        services.revoke_token(db.session.get(Checkpoint, site["point"]))
        db.session.commit()
    resp = client.get(f"/q/{site['token']}", headers={"Accept-Language": "en"})
    assert resp.status_code == 410
    assert "This label is no longer valid" in resp.get_data(as_text=True)


def test_logged_out_scan_logs_in_and_returns_to_the_label(site, client, login_as):
    url = f"/q/{site['token']}"
    resp = client.get(url)
    assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"]
    resp = client.form(f"/login?next={url}", {"login": "ivy", "password": "correct-horse-battery"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(url)
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Fire round 消防" in html
    assert 'inputmode="decimal"' in html
    assert 'accept="image/*" capture="environment"' in html
    assert 'name="submit_key"' in html
    assert "suite.css" not in html  # the lean layout
    assert len(page.data) < 30_000


def test_staff_without_fill_permission_gets_403(site, client, login_as):
    login_as(client, "sam")
    assert client.get(f"/q/{site['token']}").status_code == 403


def _page(client, site):
    html = client.get(f"/q/{site['token']}").get_data(as_text=True)
    run_id = int(re.search(r"/checklists/runs/(\d+)/submit", html).group(1))
    key = re.search(r'name="submit_key" value="([^"]+)"', html).group(1)
    return html, run_id, key


def _answer(client, run_id, key, **data):
    return client.htmx("POST", f"/checklists/runs/{run_id}/items/{key}", data=data)


def test_each_answer_is_saved_at_once_and_shown_after_a_reload(app, site, client, login_as):
    login_as(client, "ivy")
    _html, run_id, _k = _page(client, site)
    keys = site["keys"]
    resp = _answer(client, run_id, keys["pass_fail"], result="pass")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert f'id="run-{run_id}-{keys["pass_fail"]}"' in body and "<html" not in body
    assert _answer(client, run_id, keys["number"], value="1.8").status_code == 200
    assert _answer(client, run_id, keys["select"], value="Nope").status_code == 422
    html, again, _k = _page(client, site)
    assert again == run_id  # the open draft resumes
    assert 'value="1.8"' in html and "Out of range" in html
    assert re.search(r'value="pass" class="pass"[^>]*aria-pressed="true"', html)


def test_photo_too_large_or_not_an_image_is_refused_next_to_the_item(app, site, client, login_as):
    login_as(client, "ivy")
    _html, run_id, _k = _page(client, site)
    key = site["keys"]["photo"]
    url = f"/checklists/runs/{run_id}/items/{key}/photos"
    resp = client.htmx("POST", url, data={"photo": (__import__("io").BytesIO(b"hello"), "a.jpg")})
    assert resp.status_code == 422
    assert "This file is not a photo" in resp.get_data(as_text=True)
    app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"] = 50
    try:
        resp = client.htmx("POST", url, data={"photo": (__import__("io").BytesIO(png()), "a.png")})
    finally:
        app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"] = 8 * 1024 * 1024
    assert resp.status_code == 422 and "too large" in resp.get_data(as_text=True)
    resp = client.htmx("POST", url, data={"photo": (__import__("io").BytesIO(png()), "a.png")})
    assert resp.status_code == 200 and "Photo 1" in resp.get_data(as_text=True)
    photo = re.search(r'href="(/checklists/runs/\d+/files/\d+)"', resp.get_data(as_text=True))
    assert client.get(photo.group(1)).headers["Content-Type"] == "image/png"


def test_required_photo_blocks_submit_with_the_item_highlighted(app, site, client, login_as):
    login_as(client, "ivy")
    _html, run_id, submit_key = _page(client, site)
    keys = site["keys"]
    _answer(client, run_id, keys["pass_fail"], result="fail")
    _answer(client, run_id, keys["yes_no"], result="yes")
    _answer(client, run_id, keys["number"], value="1.2")
    resp = client.htmx(
        "POST",
        f"/checklists/runs/{run_id}/submit",
        target=f"run-{run_id}-form",
        data={"submit_key": submit_key},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(
        rf'class="item is-failed has-problem" id="run-{run_id}-{keys["pass_fail"]}"', html
    )
    assert "A failed item needs a photo." in html
    assert _count_runs(app, site["ws"], status="submitted") == 0


def test_submitting_twice_with_the_same_key_records_one_run(app, site, client, login_as):
    login_as(client, "ivy")
    _html, run_id, submit_key = _page(client, site)
    keys = site["keys"]
    _answer(client, run_id, keys["pass_fail"], result="fail")
    client.htmx(
        "POST",
        f"/checklists/runs/{run_id}/items/{keys['pass_fail']}/photos",
        data={"photo": (__import__("io").BytesIO(png()), "a.png")},
    )
    _answer(client, run_id, keys["yes_no"], result="yes")
    _answer(client, run_id, keys["number"], value="0.9")
    sent = []
    run_submitted.connect(sent.append, weak=False)
    try:
        first = client.form(f"/checklists/runs/{run_id}/submit", {"submit_key": submit_key})
        second = client.form(f"/checklists/runs/{run_id}/submit", {"submit_key": submit_key})
    finally:
        run_submitted.disconnect(sent.append)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(sent) == 1
    assert _count_runs(app, site["ws"], status="submitted") == 1
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "INS-" in page and "Out of range" in page
    # the next scan starts a new draft
    _html, new_run, _k = _page(client, site)
    assert new_run != run_id


def test_staff_cannot_answer_or_read_runs(app, site, client, login_as, new_client):
    inspector = new_client()
    login_as(inspector, "ivy")
    _html, run_id, _k = _page(inspector, site)
    login_as(client, "sam")
    assert _answer(client, run_id, site["keys"]["pass_fail"], result="pass").status_code == 403
    assert client.get(f"/checklists/runs/{run_id}").status_code == 403
    assert client.get(f"/checkpoints/{site['point']}/runs").status_code == 403


def test_designer_refuses_bad_input_next_to_the_field_and_publishes(app, site, client, login_as):
    login_as(client, "boss")
    tid = site["template"]
    assert client.get("/checklists/templates").status_code == 200
    page = client.get(f"/checklists/templates/{tid}")
    assert page.status_code == 200
    key = site["keys"]["number"]
    target = f"template-{tid}-draft"
    resp = client.htmx(
        "POST",
        f"/checklists/templates/{tid}/items/{key}",
        target=target,
        data={"label": "Pressure", "min": "2", "max": "1"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f'id="err-{key}-max"' in html and "must not be below the minimum" in html
    resp = client.htmx(
        "POST",
        f"/checklists/templates/{tid}/items",
        target=target,
        data={"type": "yes_no", "section": "0"},
    )
    assert resp.status_code == 200
    resp = client.htmx("POST", f"/checklists/templates/{tid}/publish", target=target)
    assert resp.status_code == 422  # the new item has no question yet
    new_key = re.findall(r'id="(i\d+)-label"', resp.get_data(as_text=True))[-1]
    client.htmx(
        "POST",
        f"/checklists/templates/{tid}/items/{new_key}",
        target=target,
        data={"label": "Locked?", "required": "y"},
    )
    resp = client.htmx("POST", f"/checklists/templates/{tid}/publish", target=target)
    assert resp.status_code == 200 and "Published as version 2" in resp.get_data(as_text=True)


def test_checkpoint_form_qr_and_revoke(app, site, client, login_as):
    login_as(client, "boss")
    resp = client.htmx(
        "POST",
        "/checkpoints/new",
        target="checkpoint-form",
        data={"name": "Gate", "code": "fs-01", "template_id": site["template"], "owner_id": 0},
    )
    assert resp.status_code == 422 and "Another checkpoint has this code." in resp.get_data(
        as_text=True
    )
    resp = client.form(
        "/checkpoints/new",
        {"name": "Gate 大门", "code": "gate-1", "template_id": site["template"], "owner_id": 0},
    )
    assert resp.status_code == 303
    assert "GATE-1" in client.get("/checkpoints").get_data(as_text=True)
    detail = client.get(f"/checkpoints/{site['point']}").get_data(as_text=True)
    assert "<svg" in detail and f"/q/{site['token']}" in detail
    assert client.form(f"/checkpoints/{site['point']}/revoke").status_code == 303
    assert client.get(f"/q/{site['token']}").status_code == 410


def test_label_sheet_pdf_has_a_cjk_font_and_qr_codes_decode_to_the_checkpoint_urls(
    app, site, client, login_as, tmp_path
):
    if not have_tools("pdffonts", "pdftoppm", "zbarimg"):
        pytest.skip("poppler-utils and zbar-tools are needed")
    login_as(client, "boss")
    with app.app_context(), use_workspace(site["ws"].id):
        ids = [site["point"]]
        for n in (2, 3):
            p = services.save_checkpoint(
                None,
                name=f"Point {n} 点",
                code=f"FS-0{n}",
                template_id=site["template"],
                owner_id=None,
            )
            ids.append(p.id)
        db.session.commit()
        tokens = {p.token for p in db.session.scalars(sa.select(Checkpoint))}
    resp = client.get("/checkpoints/labels.pdf?" + "&".join(f"checkpoint={i}" for i in ids))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(resp.data)
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout  # noqa: S607
    assert re.search(r"CJK|WenQuanYi|SC", fonts), fonts
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "page")], check=True)  # noqa: S607
    out = subprocess.run(
        ["zbarimg", "-q", "--raw", *map(str, sorted(tmp_path.glob("page*.png")))],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert sorted(out) == sorted(f"http://localhost/q/{t}" for t in tokens)


def test_every_item_type_renders_on_the_qr_page(site, client, login_as):
    login_as(client, "ivy")
    html, run_id, _k = _page(client, site)
    for kind, values in ALL_TYPES:
        assert values["label"] in html, kind
    assert 'type="date"' in html and "<select" in html and "<textarea" in html


def test_answers_survive_in_the_database(app, site, client, login_as):
    login_as(client, "ivy")
    _html, run_id, _k = _page(client, site)
    _answer(client, run_id, site["keys"]["text"], value="ok 好")
    with app.app_context(), use_workspace(site["ws"].id):
        assert db.session.scalar(sa.select(ChecklistAnswer.value)) == "ok 好"
