"""The inspections dashboard: rounds completion, pass rate by site and week, top failing items,
open and overdue corrective actions, as server-rendered SVG with the numbers in tables."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from modules.inspections import charts
from modules.inspections.blueprint import bp
from modules.inspections.services import dashboard as services
from modules.inspections.services.rounds import zone
from suite.auth.permissions import require
from suite.web import render_page


@bp.route("/dashboard")
@require("inspections.dashboard.read")
def dashboard() -> Response:
    weeks = request.args.get("weeks", type=int)
    weeks = weeks if weeks in services.WEEK_CHOICES else 8
    board = services.build(zone(g.membership.workspace_id), weeks=weeks)
    series = [
        ("done", _("Completed"), charts.STATUS_COLORS["done"]),
        ("due", _("Not done yet"), charts.STATUS_COLORS["due"]),
        ("missed", _("Missed"), charts.STATUS_COLORS["missed"]),
    ]
    rates = {s: {w: board.pass_rate(s, w) for w in board.weeks} for s in board.sites}
    return render_page(
        "inspections/dashboard.html",
        "inspections/_dashboard.html",
        "inspections-dashboard",
        board=board,
        weeks=weeks,
        week_choices=services.WEEK_CHOICES,
        rates=rates,
        series=series,
        completion_chart=charts.stacked_columns(
            _("Scheduled rounds by week"), list(board.completion_by_week.items()), series
        ),
        pass_chart=charts.grouped_percent(_("Pass rate by site and week"), board.weeks, rates),
        failing_chart=charts.horizontal_bars(_("Items that fail most"), board.top_failing),
    )
