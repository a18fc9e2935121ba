"""The inspections dashboard with exact numbers: rounds done / due / missed, pass rate by site
and ISO week, the items that fail most, open and overdue corrective actions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from modules.inspections.models import CorrectiveAction, InspectionSchedule
from modules.inspections.services import actions, rounds
from modules.inspections.services import dashboard as board_of
from modules.inspections.services.photos import Upload
from suite.auth.models import Membership
from suite.checklists.models import Checkpoint
from suite.db import db, utcnow
from tests.modules.inspections.factories import png, submit_run

TZ = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


def make_history(insp) -> list[int]:
    """Daily 09:00 rounds (4 h window) from 1 Dec 2026 at the 3 checkpoints (sites A, B, A),
    and four runs: 24 Nov at 1 (all pass), 1 Dec 20:00 at 3 (exits fails; after the window),
    2 Dec 10:00 at 1 (exits and doors fail), 2 Dec 10:30 at 2 (pressure 0.8 MPa, out of range).
    Of the 4 corrective actions one is fixed, one verified and closed. Returns their ids."""
    p1, p2, p3 = (db.session.get(Checkpoint, i) for i in insp["points"])
    for p in (p1, p2, p3):
        rounds.save_schedule(
            None,
            checkpoint_id=p.id,
            frequency="daily",
            weekdays=(),
            time_of_day=dt.time(9),
            window_hours=4,
            inspector_id=insp["inspector"],
        )
    for s in db.session.scalars(sa.select(InspectionSchedule)):
        s.created_at = local(1, 0).astimezone(dt.UTC)
    db.session.commit()
    submit_run(p1, insp["inspector"], at=local(24, 10, month=11))
    submit_run(p3, insp["inspector"], fails=("exits",), at=local(1, 20))
    # the run at 3 made its 1 Dec round; the sweep makes the 5 others, flags 1 Dec's 3 missed
    assert rounds.sweep(local(2, 8).astimezone(dt.UTC)) == (5, 3)
    submit_run(p1, insp["inspector"], fails=("exits", "doors"), at=local(2, 10))
    submit_run(p2, insp["inspector"], pressure="0.8", at=local(2, 10, 30))
    db.session.commit()
    cas = list(db.session.scalars(sa.select(CorrectiveAction).order_by(CorrectiveAction.id)))
    assert len(cas) == 4
    owner = db.session.get(Membership, insp["owner"])
    inspector = db.session.get(Membership, insp["inspector"])
    for ca in cas[:2]:
        actions.record_fix(ca, owner, note="done", photos=[Upload(png(), "f.png")], key=f"f{ca.id}")
    actions.verify(cas[0], inspector, fixed=True, key="v1")
    db.session.commit()
    return [c.id for c in cas]


def test_dashboard_numbers(insp, inside):
    with inside():
        make_history(insp)
        board = board_of.build(TZ, weeks=8, now=local(2, 12).astimezone(dt.UTC))
        assert board.weeks[0] == "2026-W42" and board.weeks[-1] == "2026-W49"
        assert (board.start, board.last_day) == (dt.date(2026, 10, 12), dt.date(2026, 12, 2))
        # 1 Dec: 3 missed (the 20:00 run was after the window); 2 Dec: 2 done, 1 still due
        assert board.completion == {"done": 2, "due": 1, "missed": 3}
        assert board.completion_by_week["2026-W49"] == {"done": 2, "due": 1, "missed": 3}
        assert board.completion_by_week["2026-W48"] == {"done": 0, "due": 0, "missed": 0}
        assert board.completion_rate == Decimal("40.0")
        # 9 scored answers a run; Plant A W48 9/9, W49 (2 + 1 failed of 18) 15/18; Plant B 8/9
        assert board.pass_counts == {
            "Plant A": {"2026-W48": (9, 9), "2026-W49": (15, 18)},
            "Plant B": {"2026-W49": (8, 9)},
        }
        assert board.pass_rate("Plant A", "2026-W48") == Decimal("100.0")
        assert board.pass_rate("Plant A", "2026-W49") == Decimal("83.3")
        assert board.pass_rate("Plant B", "2026-W49") == Decimal("88.9")
        assert board.pass_rate("Plant B", "2026-W48") is None
        assert board.top_failing == [
            ("Emergency exits clear", 2),
            ("Extinguisher pressure", 1),
            ("Fire doors closed", 1),
        ]
        # 4 opened: 1 closed, 1 fixed (waiting for verification), 2 to fix
        assert (board.open_actions, board.overdue_actions) == (3, 0)
        assert board.actions_by_site == {"Plant A": (2, 0), "Plant B": (1, 0)}
        # two days later the two still to fix are overdue (the fixed one waits on the inspector)
        later = board_of.build(TZ, weeks=4, now=utcnow() + dt.timedelta(hours=49))
        assert (later.open_actions, later.overdue_actions) == (3, 2)
        assert later.actions_by_site == {"Plant A": (2, 1), "Plant B": (1, 1)}
        # a shorter period leaves the November run out
        short = board_of.build(TZ, weeks=1, now=local(2, 12).astimezone(dt.UTC))
        assert short.pass_counts == {
            "Plant A": {"2026-W49": (15, 18)},
            "Plant B": {"2026-W49": (8, 9)},
        }


def test_dashboard_page_draws_svg_charts(insp, inside, new_client, login_as):
    with inside():
        make_history(insp)
    c = new_client()
    login_as(c, "inspector")
    assert c.form("/language", {"locale": "en"}).status_code == 303
    resp = c.get("/inspections/dashboard?weeks=26")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3
    assert "<script" not in html.split("<main", 1)[1]
    assert "<title>Pass rate by site and week</title>" in html
    assert "Emergency exits clear" in html and "Plant B" in html
    assert 'id="tile-open"' in html
    frag = c.htmx("GET", "/inspections/dashboard?weeks=4", target="inspections-dashboard")
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body
    assert body.startswith('<div id="inspections-dashboard"')
    # an unknown period falls back to 8 weeks
    assert c.get("/inspections/dashboard?weeks=1000").status_code == 200


def test_dashboard_is_for_readers_only(insp, new_client, login_as, make_member):
    make_member(insp["ws"], "clerk", roles=("suite.staff",))
    c = new_client()
    login_as(c, "clerk")
    assert c.get("/inspections/dashboard").status_code == 403
