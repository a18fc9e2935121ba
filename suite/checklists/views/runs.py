"""Submitted checklists: a run's page, the runs of a checkpoint, and the photos of a run."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, g
from flask_login import login_required
from werkzeug.wrappers import Response

from suite import files
from suite.auth.permissions import has_permission, require
from suite.checklists import services
from suite.checklists.models import DRAFT, ChecklistRun, Checkpoint
from suite.files import StoredFile
from suite.tenancy import get_or_404
from suite.views import bp
from suite.views.pagination import newest_first
from suite.web import render_page


def visible_run(checklist_run_id: int) -> ChecklistRun:
    """Readers see every run of the workspace; an inspector sees their own."""
    run = get_or_404(ChecklistRun, checklist_run_id)
    mine = g.membership is not None and run.inspector_id == g.membership.id
    if not (mine or has_permission("suite.checklist.read")):
        abort(403)
    return run


@bp.route("/checklists/runs/<int:checklist_run_id>")
@login_required
def checklist_run_detail(checklist_run_id: int) -> Response:
    run = visible_run(checklist_run_id)
    answers = services.answers_of(run)
    return render_page(
        "checklists/run_detail.html",
        "checklists/run_detail.html",
        f"run-{run.id}",
        run=run,
        point=run.checkpoint,
        spec=run.version.spec,
        answers=answers,
        failed=services.is_failed,
        answered=services.is_answered,
        is_draft=run.status == DRAFT,
        links=run_links(run),
    )


def run_links(run: ChecklistRun) -> list[tuple[str, str]]:
    """What the modules offer for this run (Manifest.run_links), e.g. a printed report."""
    out: list[tuple[str, str]] = []
    for func in current_app.extensions["suite.registry"].run_links:
        out.extend(func(run) or [])
    return out


@bp.route("/checkpoints/<int:checkpoint_id>/runs")
@require("suite.checklist.read")
def checkpoint_runs(checkpoint_id: int) -> Response:
    point = get_or_404(Checkpoint, checkpoint_id)
    stmt = sa.select(ChecklistRun).where(
        ChecklistRun.checkpoint_id == point.id, ChecklistRun.status != DRAFT
    )
    rows, next_before = newest_first(stmt, ChecklistRun.id)
    return render_page(
        "checklists/checkpoint_runs.html",
        "checklists/_run_rows.html",
        "run-rows",
        point=point,
        items=rows,
        next_before=next_before,
    )


@bp.route("/checklists/runs/<int:checklist_run_id>/files/<int:stored_file_id>")
@login_required
def checklist_run_file(checklist_run_id: int, stored_file_id: int) -> Response:
    """A photo or signature of a run, to whoever may see the run."""
    run = visible_run(checklist_run_id)
    if stored_file_id not in services.file_ids(run):
        abort(404)
    return files.file_response(get_or_404(StoredFile, stored_file_id))
