"""S8 steps 3-4 in a real browser: the area owner works a corrective action on an iPhone 13
(list, detail, a fix without a photo refused next to the field, the fix with a photo), the
inspector verifies it; the production head reads the inspections dashboard on the Galaxy Tab S4.
Screenshots: tests/browser/artifacts/s8-*.png."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from modules.inspections.models import CorrectiveAction
from modules.inspections.services import rounds
from suite.auth.models import Membership, User
from suite.checklists import services as checklists
from suite.checklists.models import Checkpoint
from suite.db import db
from tests.browser.test_shell import assert_no_horizontal_scroll, check_layout, log_in

pytestmark = pytest.mark.browser


def _png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(out, "PNG")
    return out.getvalue()


def _inspect(code: str, fails: tuple[int, ...]) -> None:
    """The demo inspector fills the demo checklist at `code` through the services."""
    inspector = db.session.scalar(sa.select(Membership).join(User).where(User.login == "inspector"))
    point = db.session.scalar(sa.select(Checkpoint).where(Checkpoint.code == code))
    run = checklists.open_run(point, inspector)
    for n, it in enumerate(i for s in run.version.spec["sections"] for i in s["items"]):
        if it["type"] == "number":
            checklists.save_answer(run, it["key"], value="0.8" if n in fails else "1.2")
        else:
            checklists.save_answer(run, it["key"], result="fail" if n in fails else "pass")
        if n in fails:
            checklists.add_photo(run, it["key"], _png("red"), name="p.png", member=inspector)
    checklists.submit(run, inspector, key=f"browser-{code}")


def test_area_owner_fixes_on_a_phone_and_the_head_reads_the_dashboard(
    demo, inside, new_page, screenshot, tmp_path
):
    with inside():
        _inspect("FS-01", (0,))
        _inspect("FS-02", (2, 8))
        _inspect("FS-03", ())
        rounds.sweep()
        db.session.commit()
        ca_id = db.session.scalar(sa.select(sa.func.min(CorrectiveAction.id)))
    photo = tmp_path / "fix.png"
    photo.write_bytes(_png("green"))

    page = new_page("phone")
    page.goto("/login")
    log_in(page, "area_owner")
    page.goto("/inspections/actions")
    assert page.locator("#action-rows tr").count() == 3
    check_layout(page, "phone")
    screenshot(page, "s8-phone-actions")
    page.click(f"#action-{ca_id}-row a")
    page.wait_for_selector("#fix-note")
    check_layout(page, "phone")
    screenshot(page, "s8-phone-action")
    # no photo: refused next to the field, the note kept
    page.fill("#fix-note", "纸箱已移走 Boxes moved")
    page.click(f"#action-{ca_id}-work button[type=submit]")
    page.wait_for_selector("#err-photo")
    assert page.input_value("#fix-note") == "纸箱已移走 Boxes moved"
    screenshot(page, "s8-phone-fix-refused")
    page.set_input_files("#fix-photo", str(photo))
    page.click(f"#action-{ca_id}-work button[type=submit]")
    page.wait_for_selector("#fix-note", state="detached")
    page.wait_for_load_state("networkidle")
    check_layout(page, "phone")
    screenshot(page, "s8-phone-fixed")
    with inside():
        assert db.session.get(CorrectiveAction, ca_id).status == "fixed"

    insp = new_page("phone")
    insp.goto("/login")
    log_in(insp, "inspector")
    insp.goto(f"/inspections/actions/{ca_id}")
    insp.click("button[value=fixed]")
    insp.wait_for_selector("#verify-comment", state="detached")
    screenshot(insp, "s8-phone-verified")
    with inside():
        assert db.session.get(CorrectiveAction, ca_id).status == "closed"

    tab = new_page("tablet-portrait")
    tab.goto("/login")
    log_in(tab, "dept_head")
    tab.goto("/inspections/dashboard")
    charts: Any = tab.locator("svg.chart")
    assert charts.count() == 3
    assert tab.locator("#tile-open strong").inner_text() == "2"
    assert_no_horizontal_scroll(tab)
    screenshot(tab, "s8-tablet-dashboard")
    phone = new_page("phone")
    phone.goto("/login")
    log_in(phone, "dept_head")
    phone.goto("/inspections/dashboard")
    phone.click("#chart-pass-title ~ details summary")  # the numbers behind the chart
    check_layout(phone, "phone")
    screenshot(phone, "s8-phone-dashboard")
    assert not page.js_errors and not insp.js_errors and not tab.js_errors
    assert not phone.js_errors


def test_a_visitor_reports_a_problem_on_a_phone(demo, inside, new_page, screenshot, tmp_path):
    with inside():
        point = db.session.scalar(sa.select(Checkpoint).where(Checkpoint.code == "FS-03"))
        point.anonymous_reports = True
        db.session.commit()
        token = point.token
    photo = tmp_path / "leak.png"
    photo.write_bytes(_png("blue"))
    page = new_page("phone")
    page.goto(f"/q/{token}/report")
    box = page.locator("#r-hp").bounding_box()
    assert box is None or box["x"] + box["width"] <= 0  # the honeypot is off screen
    check_layout(page, "phone")
    screenshot(page, "s8-phone-report")
    page.click("form button[type=submit]")  # empty: the message next to the field
    page.wait_for_selector("#err-description")
    page.fill("#r-description", "消火栓被纸箱挡住 Hydrant blocked by boxes")
    page.set_input_files("#r-photo", str(photo))
    page.click("form button[type=submit]")
    page.wait_for_selector("p[role=status]")
    screenshot(page, "s8-phone-report-sent")
    assert not page.js_errors
    with inside():
        from modules.inspections.models import Finding

        (finding,) = db.session.scalars(sa.select(Finding))
        assert finding.description.startswith("消火栓") and len(finding.photo_ids) == 1
