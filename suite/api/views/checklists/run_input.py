"""Answering a draft run, attaching photos, submitting it once."""

from __future__ import annotations

import base64
import binascii
import secrets
from decimal import Decimal
from typing import Any

from flask import abort, current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.api import checklists as shapes
from suite.api.blueprint import Invalid, bp, error
from suite.api.views.checklists.access import (
    FILL,
    my_draft,
)
from suite.api.views.common import json_body, may, me
from suite.checklists import services
from suite.checklists import spec as specs
from suite.checklists.models import ChecklistRun
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404

ANSWER_FIELDS = {"result", "value", "note"}
KEY_MAX = 40  # stored as `api:<member>:<key>` in a 64-character column


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
