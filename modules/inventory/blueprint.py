"""The inventory blueprint at `/inventory`; views register on import."""

from flask import Blueprint

bp = Blueprint("inventory", __name__, url_prefix="/inventory", template_folder="templates")

from modules.inventory.views import issues, items, recon, stock, stocktakes, transfers, warehouses  # noqa: E402, F401  # noqa: E402, F401
