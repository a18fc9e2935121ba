"""The workspace's audit trail, newest first (keyset on id)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request
from werkzeug.wrappers import Response

from suite.audit.models import AuditEvent
from suite.audit.timeline import entries
from suite.auth.permissions import require
from suite.db import db
from suite.views import bp
from suite.web import render_page


@bp.route("/admin/audit")
@require("suite.audit.read")
def audit_list() -> Response:
    size = current_app.config["SUITE_PAGE_SIZE"]
    before = request.args.get("before", type=int)
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(size + 1)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    events = list(db.session.scalars(stmt))
    next_before = events[size - 1].id if len(events) > size else None
    return render_page(
        "admin/audit_list.html",
        "admin/_audit_rows.html",
        "audit-rows",
        items=entries(events[:size]),
        next_before=next_before,
    )
