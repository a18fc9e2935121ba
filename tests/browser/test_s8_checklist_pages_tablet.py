"""S8's office side on the Galaxy Tab S4 (712 px portrait): the template designer, the checkpoint
list and detail (QR code), and a submitted run's page, in Chinese. Screenshots:
tests/browser/artifacts/s8-tablet-*.png (looked at by a person); no page scrolls sideways.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from suite.auth.models import Membership, User
from suite.checklists import services
from suite.checklists import spec as specs
from suite.checklists.models import ChecklistTemplate, Checkpoint
from suite.db import db
from tests.browser.test_shell import assert_no_horizontal_scroll, log_in
from tests.suite.checklist_helpers import png

pytestmark = pytest.mark.browser


def _submitted_run(inside: Any) -> tuple[int, int, int]:
    """The demo inspector's FS-01 round, item 3 failed with a photo and the pressure out of
    range, submitted: (template id, checkpoint id, run id)."""
    with inside():
        point = db.session.scalar(sa.select(Checkpoint).where(Checkpoint.code == "FS-01"))
        me = db.session.scalar(sa.select(Membership).join(User).where(User.login == "inspector"))
        run = services.open_run(point, me)
        for n, it in enumerate(specs.items(run.version.spec)):
            if it["type"] == "number":
                services.save_answer(run, it["key"], value="1.8", note="压力偏高")
                services.add_photo(run, it["key"], png((240, 320)), name="gauge.png", member=me)
            elif n == 2:
                services.save_answer(run, it["key"], result="fail", note="灭火器缺失")
                services.add_photo(run, it["key"], png((320, 240)), name="fail.png", member=me)
            else:
                services.save_answer(run, it["key"], result="pass")
        services.submit(run, me, key="tablet-shot")
        template_id = db.session.scalar(
            sa.select(ChecklistTemplate.id).where(ChecklistTemplate.id == point.template_id)
        )
        db.session.commit()
        return template_id, point.id, run.id


def test_s8_office_pages_on_a_tablet(demo, inside, new_page, screenshot):
    template_id, point_id, run_id = _submitted_run(inside)
    page = new_page("tablet-portrait")
    assert page.viewport_size["width"] == 712
    page.goto("/login")
    log_in(page, "admin")
    for url, name, marker in (
        (f"/checklists/templates/{template_id}", "designer", f"#template-{template_id}-draft"),
        ("/checkpoints", "checkpoints", "#checkpoint-rows"),
        (f"/checkpoints/{point_id}", "checkpoint", f"#checkpoint-{point_id}-qr"),
        (f"/checklists/runs/{run_id}", "run", f"#run-{run_id}"),
    ):
        resp = page.goto(url)
        assert resp.status == 200, url
        assert page.locator(marker).count() == 1, (url, marker)
        assert_no_horizontal_scroll(page)
        screenshot(page, f"s8-tablet-{name}-zh")
        if name == "checkpoint":  # a viewBox, so the CSS size scales the code (no blank margin)
            box = page.locator(".qr-screen svg[viewBox]").bounding_box()
            assert box["width"] == box["height"] == 240
    assert not page.js_errors
