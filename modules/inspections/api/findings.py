"""Findings (problems reported at a checkpoint's QR page) in the API: list, read, open a
corrective action from one, dismiss one. For those who triage them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from modules.inspections.api import schemas
from modules.inspections.models import Finding
from modules.inspections.services import findings as services
from modules.inspections.views.findings import MANAGE
from suite.api.blueprint import bp, error
from suite.api.views.common import args, matching, may, me, newest_first
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404


@bp.route("/findings")
def finding_list() -> Response:
    """Reported problems, newest first.
    ---
    get:
      tags: [inspections]
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [new, converted, dismissed]}}
        - {name: checkpoint_id, in: query, schema: {type: integer}}
        - after
        - limit
      responses:
        200:
          description: One page of findings.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/FindingPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(MANAGE)
    q = args(status=schemas.FINDING_STATUSES, checkpoint_id=None)
    stmt = matching(sa.select(Finding).options(joinedload(Finding.checkpoint)), Finding, q)
    rows, next_after = newest_first(stmt, Finding.id)
    return jsonify({"items": schemas.findings(rows), "next_after": next_after})


@bp.route("/findings/<int:finding_id>")
def finding_detail(finding_id: int) -> Response:
    """One finding.
    ---
    get:
      tags: [inspections]
      responses:
        200:
          description: The finding.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Finding'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    may(MANAGE)
    return jsonify(schemas.findings([get_or_404(Finding, finding_id)])[0])


def _handle(finding_id: int, convert: bool) -> Response:
    may(MANAGE)
    finding = get_or_404(Finding, finding_id)
    try:
        if convert:
            services.convert(finding, me())
        else:
            services.dismiss(finding, me())
    except DomainError as exc:
        db.session.rollback()
        return error(409, "refused", exc.message)
    db.session.commit()
    return jsonify(schemas.findings([finding])[0])


@bp.route("/findings/<int:finding_id>/convert", methods=["POST"])
def finding_convert(finding_id: int) -> Response:
    """Open a corrective action for the checkpoint's area owner from a new finding.
    ---
    post:
      tags: [inspections]
      responses:
        200:
          description: The finding, converted (`corrective_action_id` set).
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Finding'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
    """
    return _handle(finding_id, convert=True)


@bp.route("/findings/<int:finding_id>/dismiss", methods=["POST"])
def finding_dismiss(finding_id: int) -> Response:
    """Dismiss a new finding.
    ---
    post:
      tags: [inspections]
      responses:
        200:
          description: The finding, dismissed.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Finding'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
    """
    return _handle(finding_id, convert=False)
