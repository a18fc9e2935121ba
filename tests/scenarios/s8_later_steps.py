"""S8 Inspections steps 3-4 with the demo users, after steps 1-2 (tests/scenarios/s8_steps.py),
on any app (SQLite in tests/scenarios, PostgreSQL in tests/pg).

3. The failed item of step 2's inspection opened one corrective action (CA-YYYY-0001): assigned
   to the area owner, due 48 h after, verified by the inspector. The area owner's fix without a
   photo is a 422; with a photo it goes to the inspector, who verifies it: closed. A second
   inspection at S8-03 fails 2 items: 2 actions; 48 h later (+1 s) the timer sweep escalates each
   to the area owner's manager (the production head), once.
4. The admin schedules a daily 09:00 round (4 h window) at the 3 S8 checkpoints on the schedules
   page. A sweep at 08:00 makes yesterday's and today's rounds (6), flags yesterday's 3 missed; a
   run at S8-01 at 10:00 completes its round; a sweep at 13:01 flags the other 2, once. The
   dashboard: 1 done, 5 missed of the S8 rounds; pass rate at "Plant 总厂" this week 15 / 18
   answers = 83.3 %; 3 open actions. The report PDF of step 2's run carries its 1 photo.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from modules.inspections.models import CorrectiveAction, InspectionRound, InspectionSchedule
from modules.inspections.services import dashboard, rounds
from suite.auth.models import Membership, User
from suite.checklists import services as checklists
from suite.checklists.models import ChecklistRun, Checkpoint
from suite.db import db, utcnow
from suite.notify.models import OutboxMessage
from suite.workflow import timers
from suite.workflow.models import WorkflowTask
from tests.conftest import have_tools
from tests.modules.inspections.factories import submit_run
from tests.scenarios.s8_steps import S8
from tests.suite.checklist_helpers import png


def member_id(login: str) -> int:
    return db.session.scalar(sa.select(Membership.id).join(User).where(User.login == login))


def open_tasks(instance_id: int) -> list[WorkflowTask]:
    return list(
        db.session.scalars(
            sa.select(WorkflowTask)
            .where(WorkflowTask.instance_id == instance_id, WorkflowTask.status == "open")
            .order_by(WorkflowTask.id)
        )
    )


class S8Later(S8):
    def first_action_fixed_and_closed(self) -> int:
        with self.inside():
            run = db.session.scalar(
                sa.select(ChecklistRun).where(ChecklistRun.status == "submitted")
            )
            (ca,) = db.session.scalars(sa.select(CorrectiveAction))
            owner, inspector = member_id("area_owner"), member_id("inspector")
            assert ca.number == f"CA-{utcnow().year}-0001" and ca.run_id == run.id
            assert (ca.assignee_id, ca.verifier_id, ca.status) == (owner, inspector, "open")
            (task,) = open_tasks(ca.instance_id)
            assert (task.node, task.assignee_id) == ("fix", owner)
            assert dt.timedelta(hours=47, minutes=59) <= ca.due_at - run.submitted_at
            assert ca.due_at - run.submitted_at <= dt.timedelta(hours=48, minutes=1)
            ca_id, run_id = ca.id, run.id
        url = f"/inspections/actions/{ca_id}"
        owner_c = self.client("area_owner")
        resp = owner_c.htmx(
            "POST", url + "/fix", target=f"action-{ca_id}-work", data={"note": "moved", "key": "a"}
        )
        assert resp.status_code == 422 and 'id="err-photo"' in resp.get_data(as_text=True)
        resp = owner_c.form(
            url + "/fix",
            {"note": "Boxes moved 纸箱已移走", "key": "b", "photo": (io.BytesIO(png()), "fix.png")},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 303
        resp = self.client("inspector").form(url + "/verify", {"result": "fixed", "key": "c"})
        assert resp.status_code == 303
        with self.inside():
            ca = db.session.get(CorrectiveAction, ca_id)
            assert ca.status == "closed" and ca.closed_at is not None
            assert open_tasks(ca.instance_id) == []
        return run_id

    def overdue_actions_escalate(self) -> None:
        with self.inside():
            inspector = db.session.get(Membership, member_id("inspector"))
            point = db.session.scalar(sa.select(Checkpoint).where(Checkpoint.code == "S8-03"))
            run = checklists.open_run(point, inspector)
            spec_items = [i for s in run.version.spec["sections"] for i in s["items"]]
            for n, it in enumerate(spec_items):
                if it["type"] == "number":
                    checklists.save_answer(run, it["key"], value="1.2")
                    continue
                checklists.save_answer(run, it["key"], result="fail" if n in (0, 1) else "pass")
                if n in (0, 1):
                    checklists.add_photo(run, it["key"], png(), name="p.png", member=inspector)
            checklists.submit(run, inspector, key="s8-03")
            db.session.commit()
            cas = list(
                db.session.scalars(
                    sa.select(CorrectiveAction).where(CorrectiveAction.run_id == run.id)
                )
            )
            assert len(cas) == 2
            tasks = [open_tasks(ca.instance_id)[0] for ca in cas]
            start = max(t.created_at for t in tasks)
            timers.sweep(start + dt.timedelta(hours=47))
            assert [t.assignee_id for ca in cas for t in open_tasks(ca.instance_id)] == [
                member_id("area_owner")
            ] * 2
            # one escalation timer each, fired once (the head's own 48 h start at the handover,
            # which happens now on the real clock: no second sweep with the faked time)
            assert timers.sweep(start + dt.timedelta(hours=48, seconds=1)) == 2
            db.session.expire_all()
            head, owner = member_id("dept_head"), member_id("area_owner")
            for ca in cas:
                (esc,) = open_tasks(ca.instance_id)
                assert (esc.node, esc.assignee_id, esc.on_behalf_of_id) == ("fix", head, owner)

    def schedules_rounds_and_dashboard(self, report_run_id: int) -> None:
        admin = self.client("admin")
        with self.inside():
            points = {
                p.code: p.id
                for p in db.session.scalars(
                    sa.select(Checkpoint).where(Checkpoint.code.like("S8-%"))
                )
            }
            inspector = member_id("inspector")
        bad = admin.htmx(
            "POST",
            "/inspections/schedules",
            target="schedule-form",
            data={
                "checkpoint_id": points["S8-01"],
                "frequency": "daily",
                "time_of_day": "9h",
                "window_hours": "4",
            },
        )
        assert bad.status_code == 422 and 'id="err-time_of_day"' in bad.get_data(as_text=True)
        for code in ("S8-01", "S8-02", "S8-03"):
            resp = admin.form(
                "/inspections/schedules",
                {
                    "checkpoint_id": points[code],
                    "frequency": "daily",
                    "time_of_day": "09:00",
                    "window_hours": "4",
                    "inspector_id": inspector,
                },
            )
            assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        tz = ZoneInfo(self.tz)
        today = utcnow().astimezone(tz).date()

        def local(hour: int, minute: int = 0) -> dt.datetime:
            return dt.datetime.combine(today, dt.time(hour, minute), tzinfo=tz)

        with self.inside():
            s8_ids = set(points.values())
            for s in db.session.scalars(
                sa.select(InspectionSchedule).where(InspectionSchedule.checkpoint_id.in_(s8_ids))
            ):
                s.created_at = utcnow() - dt.timedelta(days=3)
            db.session.commit()

            def s8_rounds() -> dict[str, int]:
                return dict(
                    db.session.execute(
                        sa.select(InspectionRound.status, sa.func.count())
                        .where(InspectionRound.checkpoint_id.in_(s8_ids))
                        .group_by(InspectionRound.status)
                    ).all()
                )

            rounds.sweep(local(8).astimezone(dt.UTC))
            assert s8_rounds() == {"missed": 3, "due": 3}
            point = db.session.get(Checkpoint, points["S8-01"])
            submit_run(point, inspector, at=local(10).astimezone(dt.UTC))
            db.session.commit()
            assert s8_rounds() == {"missed": 3, "due": 2, "done": 1}
            rounds.sweep(local(13, 1).astimezone(dt.UTC))
            rounds.sweep(local(14).astimezone(dt.UTC))
            assert s8_rounds() == {"missed": 5, "done": 1}
            missed = db.session.scalar(
                sa.select(sa.func.count(InspectionRound.id)).where(
                    InspectionRound.status == "missed"
                )
            )
            told = db.session.scalar(
                sa.select(sa.func.count(OutboxMessage.id)).where(
                    OutboxMessage.event == "inspections.round_missed",
                    OutboxMessage.recipient_id == inspector,
                )
            )
            assert told == missed  # each missed round told once (the demo's own rounds too)
            board = dashboard.build(tz, weeks=1, now=utcnow())
            week = dashboard.iso_week(today)
            # step 2's run 8 of 9; S8-03's 7 of 9; the factory run at S8-01: all 9 pass
            assert board.pass_counts["Plant 总厂"] == {week: (24, 27)}
            assert board.pass_rate("Plant 总厂", week) == Decimal("88.9")
            assert (board.open_actions, board.overdue_actions) == (2, 0)
        page = admin.get("/inspections/dashboard").get_data(as_text=True)
        assert "Plant 总厂" in page and "88.9%" in page
        pdf = admin.get(f"/inspections/runs/{report_run_id}/report.pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        if have_tools("pdfimages"):
            with tempfile.TemporaryDirectory() as tmp:
                Path(tmp, "r.pdf").write_bytes(pdf.data)
                listing = subprocess.run(
                    ["pdfimages", "-list", f"{tmp}/r.pdf"],  # noqa: S607
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            images = [ln for ln in listing.splitlines()[2:] if re.search(r"\bimage\b", ln)]
            assert len(images) == 1  # the failed item's photo


def run_later_steps(app) -> None:
    """S8 steps 1-4 on `app` (the first two from tests/scenarios/s8_steps.py)."""
    s8 = S8Later(app)
    tid = s8.template()
    tokens = s8.checkpoints(tid)
    s8.scan_and_submit_twice(tokens["S8-02"])
    run_id = s8.first_action_fixed_and_closed()
    s8.overdue_actions_escalate()
    s8.schedules_rounds_and_dashboard(run_id)
