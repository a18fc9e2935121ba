"""QR checklists: templates, checkpoints, runs (start or resume, answer, attach photos, submit).

The pages' rules: designers and readers see templates; checkpoints are listed to designers,
fillers and readers, their token and QR URL only to designers and fillers; readers see every run,
an inspector their own; only the inspector who started a draft answers and submits it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, g, jsonify, make_response, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite import files
from suite.api import checklists as shapes
from suite.api.blueprint import Invalid, bp, error
from suite.api.views.common import args, created, json_body, matching, may, me, newest_first
from suite.auth.permissions import has_permission
from suite.checklists import services
from suite.checklists import spec as specs
from suite.checklists.models import DRAFT, ChecklistRun, ChecklistTemplate, Checkpoint
from suite.checklists.views.checkpoints import scan_url
from suite.db import db
from suite.errors import DomainError
from suite.files import StoredFile
from suite.tenancy import get_or_404

DESIGN, FILL, READ = "suite.checklist.design", "suite.checklist.fill", "suite.checklist.read"
ANSWER_FIELDS = {"result", "value", "note"}
KEY_MAX = 40  # stored as `api:<member>:<key>` in a 64-character column


# --- templates ----------------------------------------------------------------------------------


@bp.route("/checklist-templates")
def checklist_template_list() -> Response:
    """Checklist templates, newest first, with their current version.
    ---
    get:
      tags: [checklists]
      parameters:
        - {name: active, in: query, schema: {type: string, enum: ["true", "false"]}}
        - after
        - limit
      responses:
        200:
          description: One page of templates (without their spec).
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistTemplatePage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(DESIGN, READ)
    q = args(active=("true", "false"))
    stmt = sa.select(ChecklistTemplate)
    if q["active"] is not None:
        stmt = stmt.where(ChecklistTemplate.active.is_(q["active"] == "true"))
    rows, next_after = newest_first(stmt, ChecklistTemplate.id)
    return jsonify({"items": [shapes.template_json(t) for t in rows], "next_after": next_after})


@bp.route("/checklist-templates/<int:checklist_template_id>")
def checklist_template_detail(checklist_template_id: int) -> Response:
    """One template with its current version's spec (what new runs are filled against).
    ---
    get:
      tags: [checklists]
      responses:
        200:
          description: The template; `current_version` is null until one is published.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistTemplate'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    may(DESIGN, READ)
    template = get_or_404(ChecklistTemplate, checklist_template_id)
    return jsonify(shapes.template_json(template, with_spec=True))


# --- checkpoints --------------------------------------------------------------------------------


def _checkpoints_json(points: list[Checkpoint]) -> list[dict[str, Any]]:
    show = has_permission(DESIGN) or has_permission(FILL)
    return shapes.checkpoints_json(points, show_token=show, scan_url=scan_url)


@bp.route("/checkpoints")
def checkpoint_list() -> Response:
    """Checkpoints (the places QR labels hang), newest first.
    ---
    get:
      tags: [checklists]
      parameters:
        - {name: template_id, in: query, schema: {type: integer}}
        - {name: owner_id, in: query, schema: {type: integer}, description: The area owner.}
        - {name: active, in: query, schema: {type: string, enum: ["true", "false"]}}
        - after
        - limit
      responses:
        200:
          description: One page of checkpoints.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/CheckpointPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(DESIGN, FILL, READ)
    q = args(template_id=None, owner_id=None, active=("true", "false"))
    active = q.pop("active")
    stmt = matching(sa.select(Checkpoint), Checkpoint, q)
    if active is not None:
        stmt = stmt.where(Checkpoint.active.is_(active == "true"))
    rows, next_after = newest_first(stmt, Checkpoint.id)
    return jsonify({"items": _checkpoints_json(rows), "next_after": next_after})


@bp.route("/checkpoints/<int:checkpoint_id>")
def checkpoint_detail(checkpoint_id: int) -> Response:
    """One checkpoint; its token and QR URL for designers and inspectors.
    ---
    get:
      tags: [checklists]
      responses:
        200:
          description: The checkpoint.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Checkpoint'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    may(DESIGN, FILL, READ)
    return jsonify(_checkpoints_json([get_or_404(Checkpoint, checkpoint_id)])[0])


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


# --- runs ---------------------------------------------------------------------------------------


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
    row = get_or_404(StoredFile, stored_file_id)
    used = {i for a in services.answers_of(run).values() for i in a.photo_ids or []}
    if row.id not in used and row.id != run.signature_file_id:
        abort(404)
    resp = make_response(files.read(row))
    resp.mimetype = row.content_type
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _answers_input(run: ChecklistRun) -> dict[str, dict[str, str | None]]:
    body = json_body({"answers"})
    answers = body.get("answers")
    if not isinstance(answers, dict) or not answers:
        raise Invalid({"answers": [_("Send an object of item key -> answer.")]})
    errors: dict[str, list[str]] = {}
    for key, parts in answers.items():
        field = f"answers.{key}"
        if specs.item(run.version.spec, key) is None:
            errors[field] = [_("This item no longer exists.")]
        elif not isinstance(parts, dict) or not set(parts) <= ANSWER_FIELDS:
            errors[field] = [_("Give result, value and/or note.")]
        elif any(v is not None and not isinstance(v, str) for v in parts.values()):
            errors[field] = [_("Give a text.")]
    if errors:
        raise Invalid(errors)
    return answers


@bp.route("/checklist-runs/<int:checklist_run_id>/answers", methods=["POST"])
def checklist_run_answers(checklist_run_id: int) -> Response:
    """Save answers to a draft: only the parts given change; all or nothing.
    ---
    post:
      tags: [checklists]
      description: A number out of range is saved and marked (it is evidence).
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ChecklistAnswersInput'}
      responses:
        200:
          description: The run with its answers.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistRunDetail'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    run = my_draft(checklist_run_id)
    if isinstance(run, Response):
        return run
    errors: dict[str, list[str]] = {}
    for key, parts in _answers_input(run).items():
        try:
            services.save_answer(run, key, **{f: parts.get(f) for f in ANSWER_FIELDS})
        except DomainError as exc:
            errors[f"answers.{key}"] = [exc.message]
    if errors:
        db.session.rollback()
        raise Invalid(errors)
    db.session.commit()
    return jsonify(shapes.run_json(run))


@bp.route("/checklist-runs/<int:checklist_run_id>/items/<item_key>/photos", methods=["POST"])
def checklist_run_photo(checklist_run_id: int, item_key: str) -> Response:
    """Attach a photo (or a signature image) to an item of a draft.
    ---
    post:
      tags: [checklists]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: {$ref: '#/components/schemas/ChecklistPhotoInput'}
          application/json:
            schema: {$ref: '#/components/schemas/ChecklistPhotoJson'}
      responses:
        200:
          description: The run with the photo's id in the item's `photo_ids`.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistRunDetail'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    run = my_draft(checklist_run_id)
    if isinstance(run, Response):
        return run
    data, name = _photo_upload()
    try:
        services.add_photo(run, item_key, data, name=name, member=me())
    except DomainError as exc:
        db.session.rollback()
        raise Invalid({"photo": [exc.message]}) from exc
    db.session.commit()
    return jsonify(shapes.run_json(run))


def _photo_upload() -> tuple[bytes, str]:
    """(bytes, file name) from a multipart `photo`, or from JSON `{"data": base64, "name"}` as
    the inspections API takes photos; the service checks size and kind."""
    limit = current_app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"]
    if request.mimetype != "application/json":
        upload = request.files.get("photo")
        return (upload.read(limit + 1) if upload else b""), (upload and upload.filename) or ""
    body = json_body({"name", "data"})
    name = body.get("name")
    try:
        data = base64.b64decode(str(body.get("data") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid({"data": [_("Send the photo as base64.")]}) from None
    if name is not None and not isinstance(name, str):
        raise Invalid({"name": [_("Give a text.")]})
    return data, (name or "")[:200]


def _coordinate(body: dict[str, Any], name: str, errors: dict[str, list[str]]) -> Decimal | None:
    raw = body.get(name)
    if raw is None:
        return None
    number = None if isinstance(raw, bool) else specs.parse_decimal(raw)
    if number is None:
        errors[name] = [_("Not a valid number.")]
    return number


def _submit_input() -> tuple[str | None, Decimal | None, Decimal | None]:
    body = json_body({"key", "latitude", "longitude"})
    errors: dict[str, list[str]] = {}
    key = body.get("key")
    if key is not None and (not isinstance(key, str) or not 1 <= len(key.strip()) <= KEY_MAX):
        errors["key"] = [_("Give a text of 1 to %(max)d characters.", max=KEY_MAX)]
    latitude, longitude = (
        _coordinate(body, "latitude", errors),
        _coordinate(body, "longitude", errors),
    )
    if errors:
        raise Invalid(errors)
    return (key.strip() if key else None), latitude, longitude


@bp.route("/checklist-runs/<int:checklist_run_id>/submit", methods=["POST"])
def checklist_run_submit(checklist_run_id: int) -> Response:
    """Submit a draft once: scored, numbered, and modules told (corrective actions, rounds).
    ---
    post:
      tags: [checklists]
      description: Send a `key` to retry safely; a retry with the same key answers as the first
        time. Without a key a second submit is refused with 409.
      requestBody:
        required: false
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ChecklistSubmitInput'}
      responses:
        200:
          description: Submitted (or, for a retry with the same key, submitted before).
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ChecklistSubmitResult'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(FILL)
    run = get_or_404(ChecklistRun, checklist_run_id)
    if run.inspector_id != me().id:
        abort(404)
    key, latitude, longitude = _submit_input()
    stored = f"api:{me().id}:{key or secrets.token_urlsafe(18)}"
    try:
        done, first = services.submit(run, me(), key=stored, latitude=latitude, longitude=longitude)
    except services.SubmitRefused as exc:
        db.session.rollback()
        raise Invalid({f"answers.{k}": [m] for k, m in exc.items.items()}) from exc
    except DomainError as exc:
        db.session.rollback()
        return error(409, "refused", exc.message)
    if not first and (done.id != run.id or done.submit_key != stored):
        db.session.rollback()
        if done.id != run.id:
            return error(409, "key_reused", _("This key was used for another checklist."))
        return error(409, "submitted", _("This checklist has been submitted already."))
    db.session.commit()
    return jsonify({"run": shapes.run_json(done), "replayed": not first})
