"""The inspections blueprint at `/inspections` (and `/q/<token>/report`); views on import."""

from flask import Blueprint

bp = Blueprint("inspections", __name__, url_prefix="/inspections", template_folder="templates")

from modules.inspections import receivers  # noqa: E402
from modules.inspections.views import (  # noqa: E402, F401
    actions,
    dashboard,
    findings,
    reports,
    rounds,
)

receivers.connect()
