"""The purchasing blueprint at `/purchasing`; views register on import."""

from flask import Blueprint

bp = Blueprint("purchasing", __name__, url_prefix="/purchasing", template_folder="templates")

from modules.purchasing.views import (  # noqa: E402, F401
    invoices,
    orders,
    payments,
    prints,
    receipt_list,
    receipts,
    requests,
    settings,
)
