"""S8 steps 3 and 4: failed items open corrective actions (48 h, fixed with a photo, verified,
closed; overdue escalates to the area owner's manager); daily rounds, a missed round flagged."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa

from modules.inspections.models import CorrectiveAction, InspectionRound
from modules.inspections.services import rounds
from suite.db import db, utcnow
from suite.notify.models import OutboxMessage
from suite.tenancy import use_workspace
from suite.workflow import timers
from suite.workflow.models import WorkflowTask
from tests.modules.inspections.factories import make_points, png, submit_run


@pytest.fixture
def s8_data(app, make_workspace, make_member, make_department):
    """The people and 3 checkpoints, no app context left pushed (for tests with clients: a
    pushed context would share `g`, and its CSRF token, between the clients' requests)."""
    ws = make_workspace("s8")
    head = make_member(ws, "head", roles=("suite.dept_head",))
    dept = make_department(ws, "Production", head_id=head)
    owner = make_member(
        ws, "owner", roles=("inspections.area_owner",), department_id=dept, manager_id=head
    )
    inspector = make_member(ws, "inspector", roles=("inspections.inspector",), department_id=dept)
    with app.app_context(), use_workspace(ws.id):
        points = make_points(owner, 3, sites=("Plant A", "Plant B", "Plant A"))
        ids = [p.id for p in points]
        db.session.commit()
        db.session.remove()
    return {"ws": ws, "head": head, "owner": owner, "inspector": inspector, "points": ids}


@pytest.fixture
def s8(app, s8_data):
    ws = s8_data["ws"]
    ctx = app.app_context()
    ctx.push()
    token = use_workspace(ws.id)
    token.__enter__()
    yield s8_data
    token.__exit__(None, None, None)
    db.session.remove()
    ctx.pop()


def point(s8, n=0):
    from suite.checklists.models import Checkpoint

    return db.session.get(Checkpoint, s8["points"][n])


def open_tasks(instance_id):
    return list(
        db.session.scalars(
            sa.select(WorkflowTask).where(
                WorkflowTask.instance_id == instance_id, WorkflowTask.status == "open"
            )
        )
    )


def test_each_failed_item_opens_one_action_for_the_area_owner_due_in_48_hours(s8):
    run = submit_run(point(s8), s8["inspector"], fails=("exits", "doors"), pressure="0.8")
    db.session.commit()
    cas = list(db.session.scalars(sa.select(CorrectiveAction).order_by(CorrectiveAction.id)))
    assert [c.item_key for c in cas] == ["exits", "doors", "pressure"]
    assert {c.assignee_id for c in cas} == {s8["owner"]}
    assert {c.verifier_id for c in cas} == {s8["inspector"]}
    assert cas[0].number.startswith("CA-") and cas[0].number.endswith("-0001")
    assert cas[2].description.startswith("0.8")
    for ca in cas:
        assert ca.status == "open"
        assert ca.due_at - run.submitted_at >= dt.timedelta(hours=47, minutes=59)
        assert ca.due_at - utcnow() <= dt.timedelta(hours=48)
        (task,) = open_tasks(ca.instance_id)
        assert (task.node, task.assignee_id) == ("fix", s8["owner"])
    # the area owner is told (in-app, through the outbox)
    told = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.recipient_id == s8["owner"], OutboxMessage.channel == "in_app")
    )
    assert told == 3
    # the same run again (a retried signal) opens nothing new
    from suite.checklists.signals import run_submitted

    run_submitted.send(run)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(CorrectiveAction.id))) == 3


def test_a_run_without_failures_opens_nothing(s8):
    submit_run(point(s8), s8["inspector"])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(CorrectiveAction.id))) == 0


@contextlib.contextmanager
def inside(app, s8):
    with app.app_context(), use_workspace(s8["ws"].id):
        yield
        db.session.remove()


def test_fix_with_photo_then_verify_closes_the_action(app, s8_data, new_client, login_as):
    s8 = s8_data
    with inside(app, s8):
        submit_run(point(s8), s8["inspector"], fails=("exits",))
        db.session.commit()
        ca = db.session.scalar(sa.select(CorrectiveAction))
    owner_client = new_client()
    login_as(owner_client, "owner")
    assert owner_client.form("/language", {"locale": "en"}).status_code == 303
    url = f"/inspections/actions/{ca.id}"
    page = owner_client.get(url)
    assert page.status_code == 200 and "Record the fix" in page.get_data(as_text=True)
    # no photo: 422 with the message next to the field, nothing written
    resp = owner_client.htmx(
        "POST", url + "/fix", target=f"action-{ca.id}-work", data={"note": "cleared", "key": "k1"}
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="err-photo"' in html and "<html" not in html
    with inside(app, s8):
        assert db.session.get(CorrectiveAction, ca.id).status == "open"
    # a text file is refused as a photo
    import io

    resp = owner_client.form(
        url + "/fix",
        {"note": "cleared", "key": "k2", "photo": (io.BytesIO(b"not an image"), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "not a photo" in resp.get_data(as_text=True)
    # photo + note: fixed, the inspector's verification task opens
    resp = owner_client.form(
        url + "/fix",
        {"note": "cleared the exit", "key": "k3", "photo": (io.BytesIO(png()), "fix.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    with inside(app, s8):
        ca = db.session.get(CorrectiveAction, ca.id)
        assert ca.status == "fixed" and len(ca.fix_photo_ids) == 1
        (task,) = open_tasks(ca.instance_id)
        assert (task.node, task.assignee_id) == ("verify", s8["inspector"])
    # the inspector sends it back once (not fixed), the owner fixes again, then it is verified
    insp = new_client()
    login_as(insp, "inspector")
    resp = insp.form(url + "/verify", {"result": "not_fixed", "comment": "", "key": "v1"})
    assert resp.status_code == 422 and 'id="err-comment"' in resp.get_data(as_text=True)
    resp = insp.form(
        url + "/verify", {"result": "not_fixed", "comment": "still blocked", "key": "v2"}
    )
    assert resp.status_code == 303
    with inside(app, s8):
        ca = db.session.get(CorrectiveAction, ca.id)
        assert ca.status == "open" and ca.fix_photo_ids == []
        (task,) = open_tasks(ca.instance_id)
        assert (task.node, task.assignee_id) == ("fix", s8["owner"])
    resp = owner_client.form(
        url + "/fix",
        {"note": "boxes removed", "key": "k4", "photo": (io.BytesIO(png()), "fix2.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    resp = insp.form(url + "/verify", {"result": "fixed", "comment": "ok", "key": "v3"})
    assert resp.status_code == 303
    with inside(app, s8):
        ca = db.session.get(CorrectiveAction, ca.id)
        assert ca.status == "closed" and ca.closed_at is not None
        assert open_tasks(ca.instance_id) == []
    # the list's filters
    body = insp.get("/inspections/actions?filter=closed").get_data(as_text=True)
    assert ca.number in body
    assert ca.number not in insp.get("/inspections/actions?filter=open").get_data(as_text=True)


def test_approving_the_fix_task_without_a_recorded_fix_is_refused(
    app, s8_data, new_client, login_as
):
    """The generic command path cannot skip the photo: the check_fix automation refuses."""
    s8 = s8_data
    with inside(app, s8):
        submit_run(point(s8), s8["inspector"], fails=("exits",))
        db.session.commit()
        ca = db.session.scalar(sa.select(CorrectiveAction))
        (task,) = open_tasks(ca.instance_id)
    c = new_client()
    login_as(c, "owner")
    resp = c.form(
        f"/workflow/instances/{ca.instance_id}/commands",
        {"command": "approve", "workflow_task_id": task.id, "key": "g1"},
    )
    assert resp.status_code == 409
    with inside(app, s8):
        assert [t.node for t in open_tasks(ca.instance_id)] == ["fix"]


def test_overdue_action_escalates_to_the_area_owners_manager(s8):
    submit_run(point(s8), s8["inspector"], fails=("exits",))
    db.session.commit()
    ca = db.session.scalar(sa.select(CorrectiveAction))
    (task,) = open_tasks(ca.instance_id)
    start = task.created_at
    assert timers.sweep(start + dt.timedelta(hours=47)) == 0
    assert timers.sweep(start + dt.timedelta(hours=48, seconds=1)) == 1
    from suite.workflow.models import WorkflowTimer

    fired = db.session.scalars(
        sa.select(WorkflowTimer.status).where(WorkflowTimer.task_id == task.id)
    ).all()
    assert fired == ["fired"]  # one escalation timer, fired once
    db.session.expire_all()
    (esc,) = open_tasks(ca.instance_id)
    assert (esc.node, esc.assignee_id, esc.on_behalf_of_id) == ("fix", s8["head"], s8["owner"])


# --- step 4: schedules --------------------------------------------------------------------------


def schedule_all(s8, hour=9, window=4):
    for pid in s8["points"]:
        rounds.save_schedule(
            None,
            checkpoint_id=pid,
            frequency="daily",
            weekdays=(),
            time_of_day=dt.time(hour),
            window_hours=window,
            inspector_id=s8["inspector"],
        )
    db.session.commit()


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_ws_zone())


def _ws_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def backdate_schedules(days=3):
    from modules.inspections.models import InspectionSchedule

    for s in db.session.scalars(sa.select(InspectionSchedule)):
        s.created_at = utcnow() - dt.timedelta(days=days)
    db.session.commit()


def test_daily_rounds_are_generated_once_done_by_a_run_and_missed_flagged_once(s8):
    schedule_all(s8)
    backdate_schedules()
    today = dt.datetime.now(_ws_zone()).date()
    at_8 = local(today, 8)
    made, missed = rounds.sweep(at_8)
    # yesterday's and today's round for each of the 3 checkpoints; yesterday's are missed
    assert (made, missed) == (6, 3)
    assert rounds.sweep(at_8) == (0, 0)  # idempotent
    # a run at 10:00 at checkpoint 1 completes today's round there
    submit_run(point(s8, 0), s8["inspector"], at=local(today, 10))
    db.session.commit()
    counts = dict(
        db.session.execute(
            sa.select(InspectionRound.status, sa.func.count()).group_by(InspectionRound.status)
        ).all()
    )
    assert counts == {"missed": 3, "done": 1, "due": 2}
    # after the 4 h window (13:00) the two others are flagged, each once, inspector told once each
    assert rounds.sweep(local(today, 13, 1)) == (0, 2)
    assert rounds.sweep(local(today, 14)) == (0, 0)
    told = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.event == "inspections.round_missed",
            OutboxMessage.recipient_id == s8["inspector"],
        )
    )
    assert told == 5


def test_inspectors_home_shows_todays_rounds_with_the_qr_link(app, s8_data, new_client, login_as):
    s8 = s8_data
    with inside(app, s8):
        schedule_all(s8, hour=9)
        backdate_schedules()
        today = dt.datetime.now(_ws_zone()).date()
        rounds.sweep(local(today, 0, 30))
        token = point(s8, 0).token
    c = new_client()
    login_as(c, "inspector")
    assert c.form("/language", {"locale": "en"}).status_code == 303
    html = c.get("/").get_data(as_text=True)
    assert "Today&#39;s rounds" in html or "Today's rounds" in html
    assert f'href="/q/{token}"' in html
