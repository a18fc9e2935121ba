"""The crm blueprint at `/crm`; views register on import."""

from flask import Blueprint

bp = Blueprint("crm", __name__, url_prefix="/crm", template_folder="templates")

from modules.crm.views import parties  # noqa: E402, F401
