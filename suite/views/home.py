"""The home page: who and where you are, what the loaded modules offer you."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import login_required

from suite.auth.services import memberships_of
from suite.views import bp


@bp.route("/")
@login_required
def home() -> str:
    from flask_login import current_user

    registry = current_app.extensions["suite.registry"]
    return render_template(
        "home.html",
        manifests=[m for m in registry.manifests if m.name != "suite"],
        memberships=memberships_of(current_user),
        widgets=[w for w in (widget() for widget in registry.widgets) if w],
    )
