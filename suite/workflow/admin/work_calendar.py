"""Admin: the workspace's working calendar (working periods, weekdays, holidays, 调休 days).

SLA deadlines counted in working days or hours use it (`suite.workflow.calendar`). Stored in
`Workspace.settings["calendar"]` in the plain form `calendar_from_settings` reads.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from suite.auth.forms import MultiCheckboxField
from suite.auth.permissions import has_permission, require
from suite.db import db
from suite.views import bp
from suite.web import redirect_to, render_form
from suite.workflow.calendar import DEFAULT_CALENDAR, calendar_from_settings

MAX_RANGE_DAYS = 366
_PERIOD = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*(?:-|–|—|~|to)\s*([0-9]{1,2}):([0-9]{2})")
_RANGE = re.compile(r"(\S+)\s*(?:~|–|—|\.\.|to)\s*(\S+)")


class CalendarForm(FlaskForm):
    hours = TextAreaField(_l("Working hours"), render_kw={"rows": 3, "spellcheck": "false"})
    weekdays = MultiCheckboxField(_l("Working weekdays"), coerce=int)
    holidays = TextAreaField(_l("Holidays"), render_kw={"rows": 8, "spellcheck": "false"})
    workdays = TextAreaField(
        _l("Adjusted working days (调休)"), render_kw={"rows": 8, "spellcheck": "false"}
    )


def weekday_choices() -> list[tuple[int, str]]:
    names = (
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    )
    return list(enumerate(names))


def _stored() -> dict[str, Any]:
    return dict((g.workspace.settings or {}).get("calendar") or {})


def _fill(form: CalendarForm, settings: Mapping[str, Any]) -> None:
    try:
        cal = calendar_from_settings({k: v for k, v in settings.items() if k != "timezone"})
    except ValueError:
        cal = DEFAULT_CALENDAR  # stored by hand and broken: start from the defaults
    form.hours.data = "\n".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in cal.hours)
    form.weekdays.data = sorted(cal.weekdays)
    form.holidays.data = "\n".join(date_lines(cal.holidays))
    form.workdays.data = "\n".join(date_lines(cal.workdays))


def date_lines(days: Iterable[dt.date]) -> list[str]:
    """Sorted dates, consecutive runs written as `first ~ last`."""
    lines: list[str] = []
    run: list[dt.date] = []
    for day in sorted(days):
        if run and day - run[-1] == dt.timedelta(days=1):
            run.append(day)
            continue
        if run:
            lines.append(_run(run))
        run = [day]
    if run:
        lines.append(_run(run))
    return lines


def _run(run: list[dt.date]) -> str:
    if len(run) == 1:
        return run[0].isoformat()
    return f"{run[0].isoformat()} ~ {run[-1].isoformat()}"


def parse_periods(text: str, errors: list[str]) -> list[list[str]]:
    periods: list[tuple[dt.time, dt.time]] = []
    for n, line in enumerate(_lines(text), 1):
        match = _PERIOD.fullmatch(line)
        start = end = None
        if match:
            try:
                start = dt.time(int(match[1]), int(match[2]))
                end = dt.time(int(match[3]), int(match[4]))
            except ValueError:
                start = None
        if start is None or end is None:
            errors.append(_("Line %(n)s: write a period like 09:00-12:00.", n=n))
        elif end <= start:
            errors.append(_("Line %(n)s: the end must be after the start.", n=n))
        else:
            periods.append((start, end))
    periods.sort()
    for (a, b), (c, d) in zip(periods, periods[1:], strict=False):
        if c < b:
            errors.append(
                _(
                    "%(one)s overlaps %(other)s.",
                    one=f"{a:%H:%M}-{b:%H:%M}",
                    other=f"{c:%H:%M}-{d:%H:%M}",
                )
            )
    if not periods and not errors:
        errors.append(_("Enter at least one working period."))
    return [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in periods]


def parse_dates(text: str, errors: list[str]) -> list[str]:
    days: set[dt.date] = set()
    for n, line in enumerate(_lines(text), 1):
        match = _RANGE.fullmatch(line)
        first, last = (match[1], match[2]) if match else (line, line)
        try:
            start, end = _date(first), _date(last)
        except ValueError:
            errors.append(
                _(
                    "Line %(n)s: write a date like 2026-10-01 "
                    "or a range like 2026-10-01 ~ 2026-10-07.",
                    n=n,
                )
            )
            continue
        if end < start or (end - start).days >= MAX_RANGE_DAYS:
            errors.append(
                _("Line %(n)s: the range must run forwards and span at most a year.", n=n)
            )
            continue
        days.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return [d.isoformat() for d in sorted(days)]


def _date(text: str) -> dt.date:
    text = text.strip().replace("/", "-").replace(".", "-")
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _settings_from(form: CalendarForm) -> dict[str, Any] | None:
    """The posted calendar as settings, or None with messages next to the fields."""
    found: dict[str, list[str]] = {"hours": [], "weekdays": [], "holidays": [], "workdays": []}
    settings: dict[str, Any] = {
        "timezone": g.workspace.timezone,
        "hours": parse_periods(form.hours.data or "", found["hours"]),
        "weekdays": sorted(d for d in form.weekdays.data or () if 0 <= d <= 6),
        "holidays": parse_dates(form.holidays.data or "", found["holidays"]),
        "workdays": parse_dates(form.workdays.data or "", found["workdays"]),
    }
    if not settings["weekdays"]:
        found["weekdays"].append(_("Choose at least one working weekday."))
    both = sorted(set(settings["holidays"]) & set(settings["workdays"]))
    if both:
        found["workdays"].append(
            _("%(date)s is a holiday and a working day at once.", date=both[0])
        )
    if not any(found.values()):
        try:
            calendar_from_settings(settings)
        except ValueError as exc:
            found["hours"].append(str(exc))
    for name, messages in found.items():
        getattr(form, name).errors = list(getattr(form, name).errors or ()) + messages
    return None if any(found.values()) else settings


@bp.route("/admin/calendar", methods=["GET", "POST"])
@require("suite.workflow.design")
def calendar_settings() -> Response:
    form = CalendarForm()
    form.weekdays.choices = weekday_choices()
    if request.method == "GET":
        _fill(form, _stored())
    elif form.validate_on_submit():
        settings = _settings_from(form)
        if settings is not None:
            ws = g.workspace
            ws.settings = {**(ws.settings or {}), "calendar": settings}  # a new dict: tracked
            db.session.commit()
            return redirect_to("suite.calendar_settings", _("Saved."))
    return render_form(
        "workflow/admin/calendar_form.html",
        "workflow/admin/_calendar_form.html",
        "calendar-form",
        form,
        timezone=g.workspace.timezone,
        can_edit_timezone=has_permission("suite.workspace.manage"),
    )
