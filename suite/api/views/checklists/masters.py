"""Checklist templates and checkpoints (read only)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify
from werkzeug.wrappers import Response

from suite.api import checklists as shapes
from suite.api.blueprint import bp
from suite.api.views.checklists.access import (
    DESIGN,
    FILL,
    READ,
)
from suite.api.views.common import args, matching, may, newest_first
from suite.auth.permissions import has_permission
from suite.checklists.models import ChecklistTemplate, Checkpoint
from suite.checklists.views.checkpoints import scan_url
from suite.tenancy import get_or_404

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
