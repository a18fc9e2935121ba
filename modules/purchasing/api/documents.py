"""Purchase orders, goods receipts, supplier invoices and payment requests in the API (read)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, jsonify
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from modules.purchasing.api import schemas
from modules.purchasing.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PaymentRequest,
    PurchaseOrder,
    PurchaseOrderLine,
    SupplierInvoice,
    SupplierInvoiceLine,
)
from modules.purchasing.services.invoices import DOC_TYPE as INVOICE_DOC
from modules.purchasing.services.orders import STATUSES as ORDER_STATUSES
from modules.purchasing.services.payments import DOC_TYPE as PAYMENT_DOC
from suite.api.blueprint import bp
from suite.api.views.common import args, matching, may, newest_first
from suite.auth.permissions import has_permission
from suite.tenancy import get_or_404
from suite.workflow.views import PAGES

ORDER_READ, RECEIPT_READ = "purchasing.order.read", "purchasing.receipt.read"
INVOICE_READ, PAYMENT_READ = "purchasing.invoice.read", "purchasing.payment.read"


def _visible(document_type: str, row: object, permission: str) -> None:
    """404 unless the caller may see the row (its web page's rule, else the permission)."""
    pages = PAGES.get(document_type)
    if not (has_permission(permission) or (pages is not None and pages.visible(row))):
        abort(404)


# --- purchase orders ------------------------------------------------------------------------------


def _orders() -> sa.Select:
    return sa.select(PurchaseOrder).options(
        joinedload(PurchaseOrder.supplier),
        selectinload(PurchaseOrder.lines).joinedload(PurchaseOrderLine.item),
    )


@bp.route("/purchase-orders")
def purchase_order_list() -> Response:
    """Purchase orders, newest first.
    ---
    get:
      tags: [purchasing]
      parameters:
        - name: status
          in: query
          schema:
            type: string
            enum: [draft, confirmed, partially_received, received, billed, closed, cancelled]
        - {name: supplier_id, in: query, schema: {type: integer}}
        - {name: request_id, in: query, schema: {type: integer}}
        - after
        - limit
      responses:
        200:
          description: One page of orders with their lines (received and open quantities).
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PurchaseOrderPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(ORDER_READ)
    q = args(status=ORDER_STATUSES, supplier_id=None, request_id=None)
    stmt = matching(_orders(), PurchaseOrder, q)
    rows, next_after = newest_first(stmt, PurchaseOrder.id)
    return jsonify({"items": [schemas.purchase_order(o) for o in rows], "next_after": next_after})


@bp.route("/purchase-orders/<int:purchase_order_id>")
def purchase_order_detail(purchase_order_id: int) -> Response:
    """One purchase order with its lines.
    ---
    get:
      tags: [purchasing]
      responses:
        200:
          description: The order.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PurchaseOrder'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    may(ORDER_READ)
    return jsonify(schemas.purchase_order(get_or_404(PurchaseOrder, purchase_order_id)))


# --- goods receipts -------------------------------------------------------------------------------


def _receipts_json(rows: list[GoodsReceipt]) -> list[dict]:
    who = schemas.people(r.received_by_id for r in rows)
    return [schemas.goods_receipt(r, who) for r in rows]


@bp.route("/goods-receipts")
def goods_receipt_list() -> Response:
    """Goods receipts (and returns to suppliers), newest first.
    ---
    get:
      tags: [purchasing]
      parameters:
        - {name: order_id, in: query, schema: {type: integer}}
        - {name: status, in: query, schema: {type: string, enum: [posted, accepted, returned]}}
        - after
        - limit
      responses:
        200:
          description: One page of receipts with their lines.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/GoodsReceiptPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(RECEIPT_READ)
    q = args(order_id=None, status=schemas.RECEIPT_STATUSES)
    stmt = sa.select(GoodsReceipt).options(
        joinedload(GoodsReceipt.order).joinedload(PurchaseOrder.supplier),
        joinedload(GoodsReceipt.location),
        selectinload(GoodsReceipt.lines).joinedload(GoodsReceiptLine.item),
    )
    rows, next_after = newest_first(matching(stmt, GoodsReceipt, q), GoodsReceipt.id)
    return jsonify({"items": _receipts_json(rows), "next_after": next_after})


@bp.route("/goods-receipts/<int:goods_receipt_id>")
def goods_receipt_detail(goods_receipt_id: int) -> Response:
    """One goods receipt with its lines.
    ---
    get:
      tags: [purchasing]
      responses:
        200:
          description: The receipt.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/GoodsReceipt'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    may(RECEIPT_READ)
    return jsonify(_receipts_json([get_or_404(GoodsReceipt, goods_receipt_id)])[0])


# --- supplier invoices ----------------------------------------------------------------------------


def _invoices_json(rows: list[SupplierInvoice]) -> list[dict]:
    who = schemas.people(r.entered_by_id for r in rows)
    return [schemas.supplier_invoice(r, who) for r in rows]


@bp.route("/supplier-invoices")
def supplier_invoice_list() -> Response:
    """Supplier invoices, newest first; `blocked` ones failed the three-way match.
    ---
    get:
      tags: [purchasing]
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [matched, blocked, cancelled]}}
        - {name: order_id, in: query, schema: {type: integer}}
        - {name: supplier_id, in: query, schema: {type: integer}}
        - after
        - limit
      responses:
        200:
          description: One page of invoices with their lines.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SupplierInvoicePage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(INVOICE_READ)
    q = args(status=schemas.INVOICE_STATUSES, order_id=None, supplier_id=None)
    stmt = sa.select(SupplierInvoice).options(
        joinedload(SupplierInvoice.supplier),
        selectinload(SupplierInvoice.lines)
        .joinedload(SupplierInvoiceLine.order_line)
        .joinedload(PurchaseOrderLine.item),
    )
    rows, next_after = newest_first(matching(stmt, SupplierInvoice, q), SupplierInvoice.id)
    return jsonify({"items": _invoices_json(rows), "next_after": next_after})


@bp.route("/supplier-invoices/<int:supplier_invoice_id>")
def supplier_invoice_detail(supplier_invoice_id: int) -> Response:
    """One supplier invoice with its lines and, when blocked, why.
    ---
    get:
      tags: [purchasing]
      description: Visible with purchasing.invoice.read, to whoever entered it, and to the buyer
        resolving its exception.
      responses:
        200:
          description: The invoice.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SupplierInvoice'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    invoice = get_or_404(SupplierInvoice, supplier_invoice_id)
    _visible(INVOICE_DOC, invoice, INVOICE_READ)
    return jsonify(_invoices_json([invoice])[0])


# --- payment requests -----------------------------------------------------------------------------


def _payments_json(rows: list[PaymentRequest]) -> list[dict]:
    who = schemas.people(i for r in rows for i in (r.requester_id, r.paid_by_id))
    return [schemas.payment_request(r, who) for r in rows]


@bp.route("/payment-requests")
def payment_request_list() -> Response:
    """Payment requests (资金给付单), newest first.
    ---
    get:
      tags: [purchasing]
      parameters:
        - name: status
          in: query
          schema: {type: string, enum: [draft, submitted, approved, paid, rejected]}
        - {name: supplier_id, in: query, schema: {type: integer}}
        - after
        - limit
      responses:
        200:
          description: One page of payment requests.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PaymentRequestPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may(PAYMENT_READ)
    q = args(status=schemas.PAYMENT_STATUSES, supplier_id=None)
    stmt = matching(
        sa.select(PaymentRequest).options(joinedload(PaymentRequest.supplier)), PaymentRequest, q
    )
    rows, next_after = newest_first(stmt, PaymentRequest.id)
    return jsonify({"items": _payments_json(rows), "next_after": next_after})


@bp.route("/payment-requests/<int:payment_request_id>")
def payment_request_detail(payment_request_id: int) -> Response:
    """One payment request.
    ---
    get:
      tags: [purchasing]
      description: Visible with purchasing.payment.read, to its requester and to its approvers.
      responses:
        200:
          description: The payment request.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PaymentRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    payment = get_or_404(PaymentRequest, payment_request_id)
    _visible(PAYMENT_DOC, payment, PAYMENT_READ)
    return jsonify(_payments_json([payment])[0])
