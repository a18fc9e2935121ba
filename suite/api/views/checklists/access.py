"""Who may see and change what through the checklist API (the pages' rules)."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.api.blueprint import error
from suite.api.views.common import may, me
from suite.auth.permissions import has_permission
from suite.checklists.models import DRAFT, ChecklistRun
from suite.tenancy import get_or_404

DESIGN, FILL, READ = "suite.checklist.design", "suite.checklist.fill", "suite.checklist.read"


def visible_run(checklist_run_id: int) -> ChecklistRun:
    """The run page's rule: readers see every run, an inspector their own (else 403)."""
    run = get_or_404(ChecklistRun, checklist_run_id)
    if run.inspector_id != me().id and not has_permission(READ):
        abort(403)
    return run


def my_draft(checklist_run_id: int) -> ChecklistRun | Response:
    """My run (another's is 404, as on the pages), or 409 when it is submitted already."""
    may(FILL)
    run = get_or_404(ChecklistRun, checklist_run_id)
    if run.inspector_id != me().id:
        abort(404)
    if run.status != DRAFT:
        return error(409, "submitted", _("This checklist has been submitted already."))
    return run
