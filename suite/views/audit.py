"""The workspace's audit trail, newest first (keyset on id)."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.wrappers import Response

from suite.audit.models import AuditEvent
from suite.audit.timeline import entries
from suite.auth.permissions import require
from suite.views import bp
from suite.views.pagination import newest_first
from suite.web import render_page


@bp.route("/admin/audit")
@require("suite.audit.read")
def audit_list() -> Response:
    events, next_before = newest_first(sa.select(AuditEvent), AuditEvent.id)
    return render_page(
        "admin/audit_list.html",
        "admin/_audit_rows.html",
        "audit-rows",
        items=entries(events),
        next_before=next_before,
    )
