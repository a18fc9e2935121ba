"""Corrective actions in the API: list and read; record the fix (note + base64 photos) and
verify it, each one command through the workflow kernel (idempotent with `key`)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort, jsonify
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from modules.inspections.api import schemas
from modules.inspections.models import OPEN, CorrectiveAction
from modules.inspections.services import actions as services
from modules.inspections.services.photos import Upload
from modules.inspections.views.actions import READ, visible
from suite.api.blueprint import Invalid, bp, error
from suite.api.views.common import args, json_body, matching, me, newest_first, optional_str
from suite.auth.permissions import has_permission
from suite.db import db, utcnow
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.workflow.models import CommandLog
from suite.workflow.planner import CommandRefused
from suite.workflow.views import refusal_message

MAX_PHOTOS = 5
FILTERS = ("open", "overdue", "closed")


def _visible_or_404(corrective_action_id: int) -> CorrectiveAction:
    ca = get_or_404(CorrectiveAction, corrective_action_id)
    if not visible(ca):
        abort(404)
    return ca


@bp.route("/corrective-actions")
def corrective_action_list() -> Response:
    """Corrective actions (整改), newest first: all for readers, else the caller's own.
    ---
    get:
      tags: [inspections]
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [open, fixed, closed, cancelled]}}
        - name: filter
          in: query
          description: open = not closed yet; overdue = still to fix and past due.
          schema: {type: string, enum: [open, overdue, closed]}
        - {name: checkpoint_id, in: query, schema: {type: integer}}
        - {name: assignee_id, in: query, schema: {type: integer}}
        - after
        - limit
      responses:
        200:
          description: One page of corrective actions.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/CorrectiveActionPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    q = args(status=schemas.ACTION_STATUSES, checkpoint_id=None, assignee_id=None)
    view = args(filter=FILTERS)["filter"]
    stmt = matching(
        sa.select(CorrectiveAction).options(joinedload(CorrectiveAction.checkpoint)),
        CorrectiveAction,
        q,
    )
    if view == "open":
        stmt = stmt.where(CorrectiveAction.status.in_((OPEN, "fixed")))
    elif view == "overdue":
        stmt = stmt.where(CorrectiveAction.status == OPEN, CorrectiveAction.due_at < utcnow())
    elif view == "closed":
        stmt = stmt.where(CorrectiveAction.status == "closed")
    if not has_permission(READ):
        mine = me().id
        stmt = stmt.where(
            sa.or_(CorrectiveAction.assignee_id == mine, CorrectiveAction.verifier_id == mine)
        )
    rows, next_after = newest_first(stmt, CorrectiveAction.id)
    return jsonify({"items": schemas.corrective_actions(rows), "next_after": next_after})


@bp.route("/corrective-actions/<int:corrective_action_id>")
def corrective_action_detail(corrective_action_id: int) -> Response:
    """One corrective action.
    ---
    get:
      tags: [inspections]
      responses:
        200:
          description: The corrective action.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/CorrectiveAction'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    ca = _visible_or_404(corrective_action_id)
    return jsonify(schemas.corrective_actions([ca])[0])


def _photos(body: dict[str, Any], errors: dict[str, list[str]]) -> list[Upload]:
    raw = body.get("photos")
    if not isinstance(raw, list) or not raw:
        errors["photos"] = [_("Add a photo of the fix.")]
        return []
    if len(raw) > MAX_PHOTOS:
        errors["photos"] = [_("At most %(n)s photos.", n=MAX_PHOTOS)]
        return []
    out = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"name", "data"}:
            errors[f"photos[{n}]"] = [_("Send {name, data}.")]
            continue
        try:
            data = base64.b64decode(str(item.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if not data:
            errors[f"photos[{n}]"] = [_("Send the photo as base64.")]
            continue
        out.append(Upload(data, str(item.get("name") or "photo")[:200]))
    return out


def _once(ca: CorrectiveAction, key: str | None, act: Callable[[str | None], Any]) -> Response:
    """The command once: a retry with the same key answers like the first time."""
    key = f"api:{me().id}:{key}" if key else None
    log = db.session.scalar(sa.select(CommandLog).where(CommandLog.key == key)) if key else None
    if log is not None:
        db.session.refresh(ca)
        status = str(log.result.get("status", ""))
        result = {"instance_id": ca.instance_id, "status": status, "replayed": True}
    else:
        try:
            outcome = act(key)
        except DomainError as exc:
            db.session.rollback()
            if exc.field:
                raise Invalid({exc.field: [exc.message]}) from exc
            return error(409, "refused", exc.message)
        except CommandRefused as exc:
            db.session.rollback()
            return error(exc.status, exc.code, refusal_message(exc.code), exc.details)
        db.session.commit()
        result = {"instance_id": outcome.instance_id, "status": outcome.status, "replayed": False}
    return jsonify({"corrective_action": schemas.corrective_actions([ca])[0], **result})


@bp.route("/corrective-actions/<int:corrective_action_id>/fix", methods=["POST"])
def corrective_action_fix(corrective_action_id: int) -> Response:
    """Record the fix (a note and at least one photo): the area owner's fix task is approved and
    the inspector's verification opens.
    ---
    post:
      tags: [inspections]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/FixInput'}
      responses:
        200:
          description: Recorded (or the answer to an earlier call with the same key).
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ActionResult'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    ca = _visible_or_404(corrective_action_id)
    body = json_body({"note", "photos", "key"})
    errors: dict[str, list[str]] = {}
    note = optional_str(body, "note", errors, services.MAX_NOTE) or ""
    if not note.strip() and "note" not in errors:
        errors["note"] = [_("Describe what was done.")]
    key = optional_str(body, "key", errors, 100)
    photos = _photos(body, errors)
    if errors:
        raise Invalid(errors)
    return _once(ca, key, lambda k: services.record_fix(ca, me(), note=note, photos=photos, key=k))


@bp.route("/corrective-actions/<int:corrective_action_id>/verify", methods=["POST"])
def corrective_action_verify(corrective_action_id: int) -> Response:
    """The inspector's verification: `fixed` closes the action, `not_fixed` (with a comment)
    sends it back to the area owner.
    ---
    post:
      tags: [inspections]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/VerifyInput'}
      responses:
        200:
          description: Verified or sent back (or the answer to an earlier call with the same key).
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ActionResult'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    ca = _visible_or_404(corrective_action_id)
    body = json_body({"result", "comment", "key"})
    errors: dict[str, list[str]] = {}
    result = body.get("result")
    if result not in ("fixed", "not_fixed"):
        errors["result"] = [_("Choose one of: %(options)s.", options="fixed, not_fixed")]
    comment = optional_str(body, "comment", errors, services.MAX_NOTE) or ""
    key = optional_str(body, "key", errors, 100)
    if errors:
        raise Invalid(errors)
    return _once(
        ca,
        key,
        lambda k: services.verify(ca, me(), fixed=result == "fixed", comment=comment, key=k),
    )
