"""The inspection report PDF of a submitted checklist run, and the link to it on run pages."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from modules.inspections.blueprint import bp
from modules.inspections.services import report as services
from modules.inspections.views.actions import STATUSES
from suite.auth.permissions import has_permission, require
from suite.checklists.models import SUBMITTED, ChecklistRun
from suite.errors import DomainError
from suite.printing import pdf_response, render_pdf
from suite.tenancy import get_or_404

PERMISSION = "inspections.report.read"


@bp.route("/runs/<int:checklist_run_id>/report.pdf")
@require(PERMISSION)
def run_report(checklist_run_id: int) -> Response:
    run = get_or_404(ChecklistRun, checklist_run_id)
    try:
        report = services.build(run)
    except DomainError:
        abort(404)
    marks = {
        "pass": _("Pass"),
        "fail": _("Fail"),
        "out_of_range": _("Out of range"),
        "na": _("N/A"),
        "missing": _("Not answered"),
        "answered": "",
    }
    pdf = render_pdf(
        "inspections/print/inspection_report.html",
        report=report,
        run=run,
        point=run.checkpoint,
        marks=marks,
        statuses=STATUSES,
        printed_label=run.number or "",
    )
    return pdf_response(pdf, f"{run.number or run.id}.pdf")


def run_links(run: ChecklistRun) -> list[tuple[Any, str]]:
    """Manifest.run_links: the report of a submitted run, for those who may print it."""
    if run.status != SUBMITTED or not has_permission(PERMISSION):
        return []
    return [
        (_("Inspection report (PDF)"), url_for("inspections.run_report", checklist_run_id=run.id))
    ]
