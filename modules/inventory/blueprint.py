"""The inventory blueprint at `/inventory`; views register on import."""

from flask import Blueprint

from modules.inventory.master import unit_label

bp = Blueprint("inventory", __name__, url_prefix="/inventory", template_folder="templates")
# `{{ line.item.unit|unit_label }}` on every page, also other modules' (个, not pcs, on zh-CN).
bp.add_app_template_filter(unit_label, "unit_label")

from modules.inventory.views import issues, items, recon, stock, stocktakes, transfers, warehouses  # noqa: E402, F401
