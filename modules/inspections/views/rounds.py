"""Scheduled rounds: the list (due / done / missed), schedules, and the inspector's home panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from modules.inspections.blueprint import bp
from modules.inspections.models import DONE, DUE, MISSED, InspectionRound, InspectionSchedule
from modules.inspections.services import rounds as services
from suite.auth.permissions import has_permission, require
from suite.checklists.models import Checkpoint
from suite.db import db, utcnow
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_page

STATUSES = {DUE: _l("Not done yet"), DONE: _l("Completed"), MISSED: _l("Missed")}
FREQUENCIES = {"daily": _l("Daily"), "weekly": _l("Weekly"), "weekdays": _l("On weekdays")}
WEEKDAYS = [_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")]


def today_widget() -> tuple[str, dict[str, Any]] | None:
    """The home page panel of an inspector: today's rounds with the checkpoint's QR page."""
    if g.get("membership") is None or not has_permission("inspections.round.read"):
        return None
    if not has_permission("inspections.finding.manage"):  # inspectors only
        return None
    rows = services.today_for(g.membership.id, g.membership.workspace_id)
    if not rows:
        return None
    return ("inspections/rounds_widget.html", {"rows": rows, "statuses": STATUSES, "now": utcnow()})


@bp.route("/rounds")
@require("inspections.round.read")
def round_list() -> Response:
    status = choice_arg("status", STATUSES)
    stmt = sa.select(InspectionRound)
    if status:
        stmt = stmt.where(InspectionRound.status == status)
    rows, next_before = newest_first(stmt, InspectionRound.id)
    return render_page(
        "inspections/round_list.html",
        "inspections/_round_rows.html",
        "round-rows",
        items=rows,
        next_before=next_before,
        current=status,
        statuses=STATUSES,
        can_print=has_permission("inspections.report.read"),
    )


def _schedule_form_values() -> dict[str, Any]:
    return {
        "checkpoint_id": request.form.get("checkpoint_id", type=int),
        "frequency": request.form.get("frequency", "daily"),
        "weekdays": [int(d) for d in request.form.getlist("weekdays") if d.isdigit()],
        "time_of_day": request.form.get("time_of_day", "").strip(),
        "window_hours": request.form.get("window_hours", "").strip(),
        "inspector_id": request.form.get("inspector_id", type=int),
    }


def _schedule_values(schedule: InspectionSchedule | None) -> dict[str, Any]:
    if schedule is None:
        return {"frequency": "daily", "time_of_day": "09:00", "window_hours": "4", "weekdays": []}
    return {
        "checkpoint_id": schedule.checkpoint_id,
        "frequency": schedule.frequency,
        "weekdays": list(schedule.weekdays or []),
        "time_of_day": schedule.time_of_day.strftime("%H:%M"),
        "window_hours": str(schedule.window_hours),
        "inspector_id": schedule.inspector_id,
    }


def _save_schedule(schedule: InspectionSchedule | None, values: dict[str, Any]) -> dict[str, str]:
    """Parse and save the posted form; the errors by field (nothing written when there are)."""
    errors: dict[str, str] = {}
    try:
        time_of_day = dt.time.fromisoformat(values["time_of_day"])
    except ValueError:
        errors["time_of_day"] = _("Enter a time like 09:00.")
    window = str(values["window_hours"])
    if not window.isdigit():
        errors["window_hours"] = _("Enter a whole number of hours.")
    inspector_id = values["inspector_id"] or None
    if inspector_id is not None and inspector_id not in dict(services.inspector_choices()):
        errors["inspector_id"] = _("Not a valid choice.")
    if errors:
        return errors
    try:
        services.save_schedule(
            schedule,
            checkpoint_id=values["checkpoint_id"] or 0,
            frequency=values["frequency"],
            weekdays=values["weekdays"],
            time_of_day=time_of_day,
            window_hours=int(window),
            inspector_id=inspector_id,
            active=schedule.active if schedule is not None else True,
        )
    except DomainError as exc:
        db.session.rollback()
        return {exc.field or "checkpoint_id": exc.message}
    db.session.commit()
    return {}


def _schedule_page(
    schedule: InspectionSchedule | None, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    schedules = list(
        db.session.scalars(sa.select(InspectionSchedule).order_by(InspectionSchedule.id).limit(500))
    )
    points = list(
        db.session.scalars(
            sa.select(Checkpoint)
            .where(Checkpoint.module == "inspections", Checkpoint.active.is_(True))
            .order_by(Checkpoint.code)
            .limit(500)
        )
    )
    return render_page(
        "inspections/schedule_list.html",
        "inspections/_schedule_form.html",
        "schedule-form",
        status=422 if errors else 200,
        schedules=schedules,
        schedule=schedule,
        points=points,
        inspectors=services.inspector_choices(),
        errors=errors,
        values=values,
        frequencies=FREQUENCIES,
        weekdays=WEEKDAYS,
    )


@bp.route("/schedules", methods=["GET", "POST"])
@require("inspections.schedule.manage")
def schedule_list() -> Response:
    values, errors = _schedule_values(None), {}
    if request.method == "POST":
        values = _schedule_form_values()
        errors = _save_schedule(None, values)
        if not errors:
            return redirect_to("inspections.schedule_list", _("Saved."))
    return _schedule_page(None, values, errors)


@bp.route("/schedules/<int:inspection_schedule_id>/edit", methods=["GET", "POST"])
@require("inspections.schedule.manage")
def schedule_edit(inspection_schedule_id: int) -> Response:
    schedule = get_or_404(InspectionSchedule, inspection_schedule_id)
    values, errors = _schedule_values(schedule), {}
    if request.method == "POST":
        values = _schedule_form_values()
        errors = _save_schedule(schedule, values)
        if not errors:
            return redirect_to("inspections.schedule_list", _("Saved."))
    return _schedule_page(schedule, values, errors)


@bp.route("/schedules/<int:inspection_schedule_id>/toggle", methods=["POST"])
@require("inspections.schedule.manage")
def schedule_toggle(inspection_schedule_id: int) -> Response:
    schedule = get_or_404(InspectionSchedule, inspection_schedule_id)
    schedule.active = not schedule.active
    db.session.commit()
    return redirect_to("inspections.schedule_list", _("Saved."))
