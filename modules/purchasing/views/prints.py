"""Printed documents (PDF, WeasyPrint): the purchase order with a QR code back to its page, the
goods receipt as three labelled copies (三联), the payment request with its paid stamp."""

from __future__ import annotations

from flask import abort, g
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from modules.purchasing.blueprint import bp
from modules.purchasing.models import GoodsReceipt, PaymentRequest, PurchaseOrder
from modules.purchasing.services import fmt_qty
from modules.purchasing.services import payments as payment_services
from modules.purchasing.views.payments import _visible as payment_visible
from modules.purchasing.views.payments import sees_bank_account
from suite.auth.permissions import require
from suite.db import utcnow
from suite.printing import absolute_url, cny_capital, pdf_response, qr_data_uri, render_pdf
from suite.tenancy import get_or_404

# The copies of a goods receipt (三联单), each printed on its own page with its label.
RECEIPT_COPIES = (
    ("存根联", "Stub"),
    ("财务联", "Finance"),
    ("收货联", "Receiving"),
)


def _printed_label() -> str:
    return _(
        "Printed %(when)s by %(name)s",
        when=format_datetime(utcnow(), "short"),
        name=g.membership.user.display_name,
    )


def _common() -> dict:
    return {
        "printed_label": _printed_label(),
        "qty": fmt_qty,
        "capital": cny_capital,
    }


@bp.route("/orders/<int:purchase_order_id>/print.pdf")
@require("purchasing.order.read")
def order_print(purchase_order_id: int) -> Response:
    order = get_or_404(PurchaseOrder, purchase_order_id)
    url = absolute_url("purchasing.order_detail", purchase_order_id=order.id)
    pdf = render_pdf(
        "purchasing/print/purchase_order.html",
        order=order,
        order_url=url,
        qr=qr_data_uri(url),
        **_common(),
    )
    return pdf_response(pdf, f"{order.number}.pdf")


@bp.route("/receipts/<int:goods_receipt_id>/print.pdf")
@require("purchasing.receipt.read")
def receipt_print(goods_receipt_id: int) -> Response:
    receipt = get_or_404(GoodsReceipt, goods_receipt_id)
    pdf = render_pdf(
        "purchasing/print/goods_receipt.html",
        receipt=receipt,
        copies=RECEIPT_COPIES,
        **_common(),
    )
    return pdf_response(pdf, f"{receipt.number}.pdf")


@bp.route("/payments/<int:payment_request_id>/print.pdf")
@login_required
def payment_print(payment_request_id: int) -> Response:
    payment = get_or_404(PaymentRequest, payment_request_id)
    if not payment_visible(payment):
        abort(404)
    pdf = render_pdf(
        "purchasing/print/payment_request.html",
        payment=payment,
        stamp=payment_services.stamp_text(payment),
        methods=payment_services.METHODS,
        statuses=payment_services.STATUS_LABELS,
        show_bank=sees_bank_account(),
        **_common(),
    )
    return pdf_response(pdf, f"{payment.number}.pdf")
