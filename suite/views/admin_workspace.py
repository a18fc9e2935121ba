"""Admin: the workspace's own settings (name, time zone, default language)."""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.audit.timeline import timeline_for
from suite.auth.forms import WorkspaceForm
from suite.auth.permissions import require
from suite.db import db
from suite.views import bp
from suite.web import redirect_to, render_form


@bp.route("/admin/workspace", methods=["GET", "POST"])
@require("suite.workspace.manage")
def workspace_settings() -> Response:
    ws = g.workspace
    form = WorkspaceForm(obj=ws)
    if form.validate_on_submit():
        ws.name = form.name.data.strip()
        ws.timezone, ws.locale = form.timezone.data, form.locale.data
        db.session.commit()
        return redirect_to("suite.workspace_settings", _("Saved."))
    return render_form(
        "admin/workspace_form.html",
        "admin/_workspace_form.html",
        "workspace-form",
        form,
        events=timeline_for("workspace", ws.id),
    )
