"""The inspection report PDF of a submitted run: facts, answers with their marks, the photos
(downscaled when large), the signature, the corrective actions; a CJK font embedded."""

from __future__ import annotations

import io
import re
import subprocess
from decimal import Decimal

import pytest
import sqlalchemy as sa
from PIL import Image

from modules.inspections.models import CorrectiveAction
from suite.auth.models import Membership
from suite.checklists import services as checklists
from suite.checklists.models import Checkpoint
from suite.db import db

RULES = {"required": "y", "require_photo": "y", "corrective_action": "y"}
ITEMS = [
    ("pass_fail", {"label": "安全出口畅通 Exits clear", **RULES}),
    ("pass_fail", {"label": "Fire doors closed", **RULES}),
    ("pass_fail", {"label": "Alarm panel normal", **RULES}),
    ("number", {"label": "灭火器压力", "min": "1.0", "max": "1.4", "unit": "MPa", **RULES}),
    ("signature", {"label": "Inspector's signature", "required": "y"}),
]


def image(size, color, fmt="PNG") -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, color)
    for x in range(0, size[0], 40):  # some detail, so a JPEG is not tiny
        img.paste("white", (x, 0, x + 8, size[1]))
    img.save(out, fmt, quality=95)
    return out.getvalue()


def submitted_run(insp) -> int:
    """Through the checklist services: exits fail (a 3000x2000 photo), doors pass, alarm N/A,
    pressure 0.8 MPa (out of range, photo), signed, with GPS."""
    inspector = db.session.get(Membership, insp["inspector"])
    template = checklists.save_template(None, name="消防安全日巡检 Fire safety daily round")
    keys = []
    for kind, values in ITEMS:
        key = checklists.add_item(template, 0, kind)
        checklists.update_item(template, key, values)
        keys.append(key)
    checklists.publish(template, None)
    point = db.session.get(Checkpoint, insp["points"][0])
    point.template_id = template.id
    run = checklists.open_run(point, inspector)
    exits, doors, alarm, pressure, signature = keys
    checklists.save_answer(run, exits, result="fail", note="纸箱堵住出口 boxes in the way")
    checklists.add_photo(
        run, exits, image((3000, 2000), "red", "JPEG"), name="big.jpg", member=inspector
    )
    checklists.save_answer(run, doors, result="pass")
    checklists.save_answer(run, alarm, result="na")
    checklists.save_answer(run, pressure, value="0.8")
    checklists.add_photo(run, pressure, image((400, 300), "orange"), name="g.png", member=inspector)
    checklists.add_photo(run, signature, image((300, 100), "blue"), name="s.png", member=inspector)
    checklists.submit(
        run, inspector, key="r1", latitude=Decimal("31.230416"), longitude=Decimal("121.473701")
    )
    db.session.commit()
    return run.id


def pdf_tools(tmp_path, data: bytes) -> tuple[str, str, str]:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(data)

    def run(*argv):
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout  # noqa: S603

    return (
        run("pdfimages", "-list", str(pdf)),
        run("pdffonts", str(pdf)),
        run("pdftotext", "-layout", str(pdf), "-"),
    )


def test_report_pdf_has_photos_signature_and_a_cjk_font(
    insp, inside, new_client, login_as, tmp_path
):
    with inside():
        run_id = submitted_run(insp)
        numbers = list(
            db.session.scalars(sa.select(CorrectiveAction.number).order_by(CorrectiveAction.id))
        )
    assert len(numbers) == 2  # exits and the pressure
    c = new_client()
    login_as(c, "inspector")
    assert c.form("/language", {"locale": "en"}).status_code == 303
    resp = c.get(f"/inspections/runs/{run_id}/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    images, fonts, text = pdf_tools(tmp_path, resp.data)
    rows = [line.split() for line in images.splitlines()[2:] if line.strip()]
    pictures = [r for r in rows if r[2] == "image"]
    assert len(pictures) == 3  # two photos and the signature
    assert max(int(r[3]) for r in pictures) == 1000  # the 3000 px photo was downscaled
    assert re.search(r"Noto Sans CJK|WenQuanYi|CJK", fonts) and " yes " in fonts
    for expected in (
        "Inspection report",
        "Fire safety daily round",
        "Version 1",
        "Stairwell 1",
        "FS1",
        "Plant A",
        "31.230416, 121.473701",
        "(Asia/Shanghai)",
        "Out of range",
        "0.8 MPa",
        "Valid 1.0–1.4 MPa",
        "纸箱堵住出口",
        "Corrective actions opened",
        *numbers,
    ):
        assert expected in text, expected
    # exits failed, doors passed, alarm N/A, pressure out of range: 1 of 3 scored passed
    assert "Score 1.00 / 3.00" in text and "33.3%" in text
    (tmp_path / "keep").write_bytes(resp.data)


def test_page_links_and_who_may_print(insp, inside, new_client, login_as):
    with inside():
        run_id = submitted_run(insp)
        ca_id = db.session.scalar(sa.select(CorrectiveAction.id))
        draft = checklists.open_run(
            db.session.get(Checkpoint, insp["points"][0]),
            db.session.get(Membership, insp["inspector"]),
        )
        db.session.commit()
        draft_id = draft.id
    c = new_client()
    login_as(c, "inspector")
    link = f'href="/inspections/runs/{run_id}/report.pdf"'
    assert link in c.get(f"/checklists/runs/{run_id}").get_data(as_text=True)
    assert link in c.get(f"/inspections/actions/{ca_id}").get_data(as_text=True)
    assert c.get(f"/inspections/runs/{draft_id}/report.pdf").status_code == 404
    assert "report.pdf" not in c.get(f"/checklists/runs/{draft_id}").get_data(as_text=True)
    assert c.get("/inspections/runs/999999/report.pdf").status_code == 404


@pytest.mark.parametrize(("login", "status"), [("owner", 200), ("head", 200), ("boss", 200)])
def test_report_readers(insp, inside, new_client, login_as, login, status):
    with inside():
        run_id = submitted_run(insp)
    c = new_client()
    login_as(c, login)
    assert c.get(f"/inspections/runs/{run_id}/report.pdf").status_code == status
