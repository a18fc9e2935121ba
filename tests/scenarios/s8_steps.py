"""S8 Inspections steps 1-2 through the web UI with the demo users (SQLite and PostgreSQL).

1. admin builds "Fire safety daily round" in the designer: 8 pass / fail / N/A items with a photo
   required on fail, and "Extinguisher pressure" valid 1.0-1.4 MPa; publishes version 1.
2. admin creates 3 checkpoints and prints their label sheet (3 QR codes decode to the 3 URLs);
   the inspector scans a label on a phone without a session, logs in, lands on the checklist,
   fails one item (with a photo), reads 1.25 MPa, submits the same form twice: one inspection,
   INS-YYYY-0001, score 8 / 9, 1 failed item.

The corrective actions of step 3 are the inspections module's (it listens to `run_submitted`).
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from suite.checklists.models import ChecklistRun, Checkpoint
from suite.db import db, utcnow
from suite.demo import DEMO_PASSWORD
from tests.conftest import Client, have_tools
from tests.helpers.demo import DemoScenario
from tests.suite.checklist_helpers import png

NAME = "Fire safety daily round (S8)"
ITEMS = [f"Item {n} 检查项{n}" for n in range(1, 9)]


class S8(DemoScenario):
    def template(self) -> int:
        c = self.client("admin")
        resp = c.form("/checklists/templates/new", {"name": NAME})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        tid = int(re.search(r"/checklists/templates/(\d+)", resp.headers["Location"]).group(1))
        target = f"template-{tid}-draft"
        for label in [*ITEMS, "Extinguisher pressure 灭火器压力"]:
            kind = "number" if label.startswith("Extinguisher") else "pass_fail"
            html = c.htmx(
                "POST",
                f"/checklists/templates/{tid}/items",
                target=target,
                data={"type": kind, "section": "0"},
            ).get_data(as_text=True)
            key = re.findall(r'id="(i\d+)-label"', html)[-1]
            data = {"label": label, "required": "y", "require_photo": "y", "corrective_action": "y"}
            if kind == "number":
                data |= {"min": "1.0", "max": "1.4", "unit": "MPa"}
            resp = c.htmx(
                "POST", f"/checklists/templates/{tid}/items/{key}", target=target, data=data
            )
            assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        resp = c.htmx("POST", f"/checklists/templates/{tid}/publish", target=target)
        assert "Published as version 1" in resp.get_data(as_text=True)
        version = c.get(f"/checklists/templates/{tid}").get_data(as_text=True)
        assert version.count('class="ck-item"') == 9
        return tid

    def checkpoints(self, tid: int) -> dict[str, str]:
        c = self.client("admin")
        with self.inside():
            from suite.auth.models import Membership, User

            owner = db.session.scalar(
                sa.select(Membership.id).join(User).where(User.login == "area_owner")
            )
        for n in (1, 2, 3):
            resp = c.form(
                "/checkpoints/new",
                {
                    "name": f"S8 point {n} 检查点",
                    "code": f"S8-0{n}",
                    "site": "Plant 总厂",
                    "area": f"Area {n}",
                    "template_id": tid,
                    "owner_id": owner,
                },
            )
            assert resp.status_code == 303, resp.get_data(as_text=True)[:800]
        with self.inside():
            points = {
                p.code: (p.id, p.token)
                for p in db.session.scalars(
                    sa.select(Checkpoint).where(Checkpoint.code.like("S8-%"))
                )
            }
        assert sorted(points) == ["S8-01", "S8-02", "S8-03"]
        pdf = c.get(
            "/checkpoints/labels.pdf?" + "&".join(f"checkpoint={i}" for i, _t in points.values())
        )
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        if have_tools("zbarimg", "pdftoppm"):
            with tempfile.TemporaryDirectory() as tmp:
                Path(tmp, "labels.pdf").write_bytes(pdf.data)
                subprocess.run(
                    ["pdftoppm", "-png", "-r", "150", f"{tmp}/labels.pdf", f"{tmp}/p"], check=True
                )  # noqa: S607
                decoded = subprocess.run(
                    ["zbarimg", "-q", "--raw", *map(str, sorted(Path(tmp).glob("p*.png")))],  # noqa: S607
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.split()
            assert sorted(decoded) == sorted(f"http://localhost/q/{t}" for _i, t in points.values())
        return {code: token for code, (_i, token) in points.items()}

    def scan_and_submit_twice(self, token: str) -> None:
        phone = self.new_client()
        url = f"/q/{token}"
        resp = phone.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        resp = phone.form(f"/login?next={url}", {"login": "inspector", "password": DEMO_PASSWORD})
        assert resp.status_code == 303 and resp.headers["Location"].endswith(url)
        assert phone.form("/language", {"locale": "en"}).status_code == 303
        html = phone.get(url).get_data(as_text=True)
        assert NAME in html
        run_id = int(re.search(r"/checklists/runs/(\d+)/submit", html).group(1))
        submit_key = re.search(r'name="submit_key" value="([^"]+)"', html).group(1)
        keys = re.findall(r'/checklists/runs/\d+/items/(i\d+)"', html)
        keys = list(dict.fromkeys(keys))
        assert len(keys) == 9
        for n, key in enumerate(keys[:8]):
            result = "fail" if n == 2 else "pass"
            assert (
                phone.htmx(
                    "POST", f"/checklists/runs/{run_id}/items/{key}", data={"result": result}
                ).status_code
                == 200
            )
        # without the photo the failed item blocks the submission
        assert (
            phone.htmx(
                "POST", f"/checklists/runs/{run_id}/items/{keys[8]}", data={"value": "1.25"}
            ).status_code
            == 200
        )
        refused = phone.form(f"/checklists/runs/{run_id}/submit", {"submit_key": submit_key})
        assert refused.status_code == 422 and "A failed item needs a photo." in refused.get_data(
            as_text=True
        )
        photo = phone.htmx(
            "POST",
            f"/checklists/runs/{run_id}/items/{keys[2]}/photos",
            data={"photo": (io.BytesIO(png((640, 480))), "exit.png")},
        )
        assert photo.status_code == 200
        first = phone.form(f"/checklists/runs/{run_id}/submit", {"submit_key": submit_key})
        second = phone.form(f"/checklists/runs/{run_id}/submit", {"submit_key": submit_key})
        assert first.status_code == second.status_code == 303
        assert first.headers["Location"] == second.headers["Location"]
        with self.inside():
            runs = list(
                db.session.scalars(
                    sa.select(ChecklistRun).where(ChecklistRun.status == "submitted")
                )
            )
            assert len(runs) == 1
            run = runs[0]
            assert run.number == f"INS-{utcnow().year}-0001"
            assert (run.score, run.max_score, run.failed_count, run.out_of_range_count) == (
                Decimal(8),
                Decimal(9),
                1,
                0,
            )
        page = self.client("admin").get(first.headers["Location"]).get_data(as_text=True)
        assert run.number in page and "8 / 9" in page

    def new_client(self) -> Client:
        self.app.test_client_class = Client
        return self.app.test_client()


def run_steps(app) -> None:
    s8 = S8(app)
    tid = s8.template()
    tokens = s8.checkpoints(tid)
    s8.scan_and_submit_twice(tokens["S8-02"])
