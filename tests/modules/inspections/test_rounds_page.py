"""The rounds list: filtered by status, a done round links to its inspection report."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from modules.inspections.models import InspectionRound, InspectionSchedule
from modules.inspections.services import rounds
from suite.checklists.models import Checkpoint
from suite.db import db, utcnow
from tests.modules.inspections.factories import submit_run

TZ = ZoneInfo("Asia/Shanghai")
ROW = re.compile(r'id="round-\d+-row"')


def test_rounds_list_by_status_with_the_report_of_a_done_round(insp, inside, new_client, login_as):
    today = utcnow().astimezone(TZ).date()
    with inside():
        rounds.save_schedule(
            None,
            checkpoint_id=insp["points"][0],
            frequency="daily",
            weekdays=(),
            time_of_day=dt.time(9),
            window_hours=4,
            inspector_id=insp["inspector"],
        )
        for s in db.session.scalars(sa.select(InspectionSchedule)):
            s.created_at = utcnow() - dt.timedelta(days=3)
        db.session.commit()
        rounds.sweep(dt.datetime.combine(today, dt.time(8), tzinfo=TZ))
        run = submit_run(
            db.session.get(Checkpoint, insp["points"][0]),
            insp["inspector"],
            at=dt.datetime.combine(today, dt.time(10), tzinfo=TZ),
        )
        db.session.commit()
        run_id = run.id
        statuses = sorted(db.session.scalars(sa.select(InspectionRound.status)))
    assert statuses == ["done", "missed"]
    c = new_client()
    login_as(c, "inspector")
    assert c.form("/language", {"locale": "en"}).status_code == 303
    done = c.get("/inspections/rounds?status=done").get_data(as_text=True)
    assert f'href="/inspections/runs/{run_id}/report.pdf"' in done
    assert len(ROW.findall(done)) == 1
    missed = c.get("/inspections/rounds?status=missed").get_data(as_text=True)
    assert len(ROW.findall(missed)) == 1 and "report.pdf" not in missed
    frag = c.htmx("GET", "/inspections/rounds", target="round-rows")
    body = frag.get_data(as_text=True)
    assert "<html" not in body and len(ROW.findall(body)) == 2
