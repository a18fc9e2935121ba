"""Checklist runs: start or resume one, list with filters, read, download their files."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite import files
from suite.api import checklists as shapes
from suite.api.blueprint import Invalid, bp, error
from suite.api.views.checklists.access import (
    FILL,
    READ,
    visible_run,
)
from suite.api.views.common import args, created, matching, may, me, newest_first
from suite.auth.permissions import has_permission
from suite.checklists import services
from suite.checklists.models import ChecklistRun, Checkpoint
from suite.db import db
from suite.errors import DomainError
from suite.files import StoredFile
from suite.tenancy import get_or_404


@bp.route("/checkpoints/<int:checkpoint_id>/runs", methods=["POST"])
def checkpoint_run_start(checkpoint_id: int) -> Response:
    """Start a checklist at a checkpoint, or resume my open draft there (what a scan does).
    ---
    post:
      tags: [checklists]
      responses:
        200:
          description: My open draft at this checkpoint, resumed.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistRunDetail'}
        201:
          description: A new draft on the template's current version.
          headers:
            Location:
              description: The run's URL in this API.
              schema: {type: string}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistRunDetail'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
    """
    may(FILL)
    point = get_or_404(Checkpoint, checkpoint_id)
    resumed = services.draft_of(point, me()) is not None
    try:
        run = services.open_run(point, me())
    except DomainError as exc:
        db.session.rollback()
        return error(409, "no_checklist", exc.message)
    db.session.commit()
    if resumed:
        return jsonify(shapes.run_json(run))
    return created(shapes.run_json(run), "api.checklist_run_detail", checklist_run_id=run.id)


def _day(name: str, errors: dict[str, list[str]]) -> dt.date | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("Not a valid date.")]
        return None


def _dates(stmt: sa.Select) -> sa.Select:
    """`date_from` / `date_to` (inclusive days in the workspace's time zone) on the day a run
    was submitted, or started for a draft."""
    errors: dict[str, list[str]] = {}
    first, last = _day("date_from", errors), _day("date_to", errors)
    if errors:
        raise Invalid(errors)
    zone = ZoneInfo(g.workspace.timezone)
    when = sa.func.coalesce(ChecklistRun.submitted_at, ChecklistRun.started_at)
    if first is not None:
        stmt = stmt.where(when >= dt.datetime.combine(first, dt.time(), zone))
    if last is not None:
        stmt = stmt.where(when < dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone))
    return stmt


@bp.route("/checklist-runs")
def checklist_run_list() -> Response:
    """Checklist runs, newest first: every run for readers, my own for inspectors.
    ---
    get:
      tags: [checklists]
      parameters:
        - {name: checkpoint_id, in: query, schema: {type: integer}}
        - {name: status, in: query, schema: {type: string, enum: [draft, submitted]}}
        - {name: inspector_id, in: query, schema: {type: integer}}
        - name: date_from
          in: query
          description: Submitted (a draft, started) on or after this day, workspace time.
          schema: {type: string, format: date}
        - {name: date_to, in: query, schema: {type: string, format: date}}
        - after
        - limit
      responses:
        200:
          description: One page of runs (without answers).
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistRunPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(READ, FILL)
    q = args(checkpoint_id=None, status=shapes.RUN_STATUSES, inspector_id=None)
    stmt = _dates(matching(sa.select(ChecklistRun), ChecklistRun, q))
    if not has_permission(READ):
        stmt = stmt.where(ChecklistRun.inspector_id == me().id)
    rows, next_after = newest_first(stmt, ChecklistRun.id)
    return jsonify({"items": shapes.runs_json(rows), "next_after": next_after})


@bp.route("/checklist-runs/<int:checklist_run_id>")
def checklist_run_detail(checklist_run_id: int) -> Response:
    """One run with its spec, answers and, for a draft, what blocks submitting.
    ---
    get:
      tags: [checklists]
      responses:
        200:
          description: The run.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistRunDetail'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify(shapes.run_json(visible_run(checklist_run_id)))


@bp.route("/checklist-runs/<int:checklist_run_id>/files/<int:stored_file_id>")
def checklist_run_file(checklist_run_id: int, stored_file_id: int) -> Response:
    """A photo or the signature of a run (an id from its answers' `photo_ids`).
    ---
    get:
      tags: [checklists]
      responses:
        200:
          description: The image as uploaded (downscaled on the phone).
          content:
            image/*:
              schema: {type: string, contentMediaType: 'image/*'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    run = visible_run(checklist_run_id)
    if stored_file_id not in services.file_ids(run):
        abort(404)
    return files.file_response(get_or_404(StoredFile, stored_file_id))
