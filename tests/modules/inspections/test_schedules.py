"""The schedules page: create and edit daily / weekly / weekday rounds; bad input is a 422 with
the message next to its field and nothing written."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from modules.inspections.models import InspectionSchedule
from suite.db import db


def admin(new_client, login_as):
    c = new_client()
    login_as(c, "boss")
    assert c.form("/language", {"locale": "en"}).status_code == 303
    return c


def schedules(inside) -> list[tuple]:
    with inside():
        return [
            (
                s.checkpoint_id,
                s.frequency,
                s.weekdays,
                s.time_of_day,
                s.window_hours,
                s.inspector_id,
            )
            for s in db.session.scalars(
                sa.select(InspectionSchedule).order_by(InspectionSchedule.id)
            )
        ]


def form(insp, **over):
    data = {
        "checkpoint_id": insp["points"][0],
        "frequency": "daily",
        "time_of_day": "08:30",
        "window_hours": "3",
        "inspector_id": insp["inspector"],
    }
    data.update(over)
    return data


def test_create_a_daily_and_a_weekday_schedule(insp, inside, new_client, login_as):
    c = admin(new_client, login_as)
    page = c.get("/inspections/schedules")
    assert page.status_code == 200 and "New schedule" in page.get_data(as_text=True)
    assert c.form("/inspections/schedules", form(insp)).status_code == 303
    resp = c.form(
        "/inspections/schedules",
        form(
            insp,
            checkpoint_id=insp["points"][1],
            frequency="weekdays",
            weekdays=["0", "2", "4"],
            time_of_day="14:00",
            window_hours="2",
            inspector_id="",
        ),
    )
    assert resp.status_code == 303
    assert schedules(inside) == [
        (insp["points"][0], "daily", [], dt.time(8, 30), 3, insp["inspector"]),
        (insp["points"][1], "weekdays", [0, 2, 4], dt.time(14, 0), 2, None),
    ]
    html = c.get("/inspections/schedules").get_data(as_text=True)
    assert "Mon, Wed, Fri" in html and "Any inspector" in html


def test_bad_schedules_are_422_next_to_the_field_and_not_saved(insp, inside, new_client, login_as):
    c = admin(new_client, login_as)
    cases = [
        ({"time_of_day": "9 o'clock"}, "time_of_day", "Enter a time like 09:00."),
        ({"window_hours": "two"}, "window_hours", "Enter a whole number of hours."),
        ({"window_hours": "25"}, "window_hours", "Between 1 and 24 hours."),
        ({"window_hours": "0"}, "window_hours", "Between 1 and 24 hours."),
        ({"frequency": "hourly"}, "frequency", "Not a valid choice."),
        ({"frequency": "weekly", "weekdays": ["1", "3"]}, "weekdays", "Choose one weekday."),
        ({"frequency": "weekdays"}, "weekdays", "Choose at least one weekday."),
        ({"checkpoint_id": "999999"}, "checkpoint_id", "Not a valid choice."),
        ({"inspector_id": str(insp["owner"])}, "inspector_id", "Not a valid choice."),
    ]
    for over, field, message in cases:
        resp = c.htmx(
            "POST", "/inspections/schedules", target="schedule-form", data=form(insp, **over)
        )
        assert resp.status_code == 422, over
        html = resp.get_data(as_text=True)
        assert "<html" not in html and 'id="schedule-form"' in html
        assert f'id="err-{field}">{message}' in html, (over, html)
        # plain form: the whole page, same message
        resp = c.form("/inspections/schedules", form(insp, **over))
        assert resp.status_code == 422 and "<html" in resp.get_data(as_text=True)
    assert schedules(inside) == []


def test_edit_a_schedule(insp, inside, new_client, login_as):
    c = admin(new_client, login_as)
    assert c.form("/inspections/schedules", form(insp)).status_code == 303
    with inside():
        sid = db.session.scalar(sa.select(InspectionSchedule.id))
    url = f"/inspections/schedules/{sid}/edit"
    page = c.get(url).get_data(as_text=True)
    assert "Edit schedule" in page and 'value="08:30"' in page
    resp = c.htmx("POST", url, target="schedule-form", data=form(insp, window_hours="30"))
    assert resp.status_code == 422 and 'id="err-window_hours"' in resp.get_data(as_text=True)
    assert schedules(inside)[0][4] == 3  # unchanged
    resp = c.htmx(
        "POST",
        url,
        target="schedule-form",
        data=form(insp, frequency="weekly", weekdays=["6"], time_of_day="07:00"),
    )
    assert resp.status_code == 204 and resp.headers["HX-Location"] == "/inspections/schedules"
    assert schedules(inside) == [
        (insp["points"][0], "weekly", [6], dt.time(7, 0), 3, insp["inspector"]),
    ]
    # pausing keeps the schedule; editing a paused one keeps it paused
    assert c.form(f"/inspections/schedules/{sid}/toggle").status_code == 303
    assert c.form(url, form(insp)).status_code == 303
    with inside():
        s = db.session.get(InspectionSchedule, sid)
        assert (s.active, s.frequency) == (False, "daily")


def test_schedules_need_the_permission(insp, new_client, login_as):
    c = new_client()
    login_as(c, "inspector")
    assert c.get("/inspections/schedules").status_code == 403
    assert c.form("/inspections/schedules", form(insp)).status_code == 403
