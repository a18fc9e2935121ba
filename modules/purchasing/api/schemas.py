"""The purchasing documents' OpenAPI schemas and their JSON (money and quantities as strings)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from modules.crm.models import Party
from modules.inventory.models import Item
from modules.purchasing.models import (
    GoodsReceipt,
    PaymentRequest,
    PurchaseOrder,
    PurchaseRequest,
    SupplierInvoice,
)
from modules.purchasing.services.orders import STATUSES as ORDER_STATUSES
from suite.api.serialize import iso, members, money
from suite.api.spec import BOOL, INT, MONEY, QTY, STR, TIME, nullable, obj, ref

REQUEST_STATUSES = ("draft", "submitted", "approved", "ordered", "rejected")
RECEIPT_STATUSES = ("posted", "accepted", "returned")
INVOICE_STATUSES = ("matched", "blocked", "cancelled")
PAYMENT_STATUSES = ("draft", "submitted", "approved", "paid", "rejected")
DATE = {"type": "string", "format": "date"}


def _page(item: str) -> dict[str, Any]:
    return obj(
        ["items", "next_after"],
        items={"type": "array", "items": ref(item)},
        next_after=nullable(INT),
    )


def _lines(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_pr_line = obj(
    ["id", "item", "supplier", "description", "qty", "unit_price", "amount"],
    id=INT,
    item=ref("ItemRef"),
    supplier=nullable(ref("PartyRef")),
    description=STR,
    qty=QTY,
    unit_price=MONEY,
    amount=MONEY,
)
_po_line = obj(
    ["id", "item", "description", "qty", "unit_price", "amount", "received_qty", "open_qty"],
    id=INT,
    item=ref("ItemRef"),
    description=STR,
    qty=QTY,
    unit_price=MONEY,
    amount=MONEY,
    received_qty=QTY,
    invoiced_qty=QTY,
    open_qty=QTY,
)
_line_input = {
    **obj(
        ["item_id", "qty", "unit_price"],
        item_id=INT,
        supplier_id=nullable({**INT, "description": "May stay empty in a draft."}),
        qty={**QTY, "description": 'A string, e.g. "500".'},
        unit_price={**MONEY, "description": 'A string, e.g. "2.40".'},
        description={**STR, "maxLength": 300},
    ),
    "additionalProperties": False,
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "PurchaseRequest": obj(
        ["id", "number", "status", "amount_total", "lines", "created_at"],
        id=INT,
        number={**STR, "example": "PR-2026-0001"},
        status={**STR, "enum": list(REQUEST_STATUSES)},
        requester=nullable(ref("Member")),
        department=nullable(ref("Department")),
        project=STR,
        reason=STR,
        is_asset=BOOL,
        asset_number=nullable(STR),
        amount_total=MONEY,
        instance_id=nullable(INT),
        order_ids={"type": "array", "items": INT},
        created_at=TIME,
        submitted_at=nullable(TIME),
        approved_at=nullable(TIME),
        lines=_lines(_pr_line),
    ),
    "PurchaseRequestInput": {
        **obj(
            ["lines"],
            project={**STR, "maxLength": 120},
            reason={**STR, "maxLength": 5000},
            is_asset={**BOOL, "default": False},
            lines={"type": "array", "items": _line_input, "minItems": 1, "maxItems": 50},
        ),
        "additionalProperties": False,
    },
    "PurchaseRequestPage": _page("PurchaseRequest"),
    "PurchaseRequestSubmitResult": obj(
        ["request", "result"],
        request=ref("PurchaseRequest"),
        result=obj(
            ["instance_id", "status", "version", "replayed"],
            instance_id=INT,
            status=STR,
            version=INT,
            replayed=BOOL,
        ),
    ),
    "PurchaseOrder": obj(
        ["id", "number", "status", "supplier", "amount_total", "lines", "created_at"],
        id=INT,
        number={**STR, "example": "PO-2026-0001"},
        status={**STR, "enum": list(ORDER_STATUSES)},
        supplier=ref("PartyRef"),
        request_id=nullable(INT),
        is_asset=BOOL,
        asset_number=nullable(STR),
        amount_total=MONEY,
        supplier_reference=STR,
        expected_on=nullable(DATE),
        sent_at=nullable(TIME),
        confirmed_at=nullable(TIME),
        created_at=TIME,
        lines=_lines(_po_line),
    ),
    "PurchaseOrderPage": _page("PurchaseOrder"),
    "GoodsReceipt": obj(
        ["id", "number", "status", "order_id", "lines", "received_at"],
        id=INT,
        number={**STR, "example": "GRN-2026-0001"},
        status={**STR, "enum": list(RECEIPT_STATUSES)},
        order_id=INT,
        order_number=STR,
        supplier=ref("PartyRef"),
        location=nullable(obj(["id", "code", "name"], id=INT, code=STR, name=STR)),
        received_by=nullable(ref("Member")),
        note=STR,
        return_of_id=nullable(INT),
        received_at=TIME,
        lines=_lines(
            obj(
                ["id", "order_line_id", "item", "qty", "unit_cost"],
                id=INT,
                order_line_id=INT,
                item=ref("ItemRef"),
                qty={**QTY, "description": "Negative on a return to the supplier."},
                unit_cost=MONEY,
            )
        ),
    ),
    "GoodsReceiptPage": _page("GoodsReceipt"),
    "SupplierInvoice": obj(
        ["id", "number", "invoice_no", "status", "order_id", "supplier", "amount_total", "lines"],
        id=INT,
        number=STR,
        invoice_no={**STR, "description": "The supplier's own number."},
        status={**STR, "enum": list(INVOICE_STATUSES)},
        mismatch={**STR, "description": "Why a blocked invoice does not match."},
        order_id=INT,
        supplier=ref("PartyRef"),
        amount_total=MONEY,
        invoice_date=nullable(DATE),
        entered_by=nullable(ref("Member")),
        created_at=TIME,
        lines=_lines(
            obj(
                ["id", "order_line_id", "item", "qty", "unit_price", "amount"],
                id=INT,
                order_line_id=INT,
                item=ref("ItemRef"),
                qty=QTY,
                unit_price=MONEY,
                amount=MONEY,
            )
        ),
    ),
    "SupplierInvoicePage": _page("SupplierInvoice"),
    "PaymentRequest": obj(
        ["id", "number", "status", "invoice_id", "supplier", "amount"],
        id=INT,
        number=STR,
        status={**STR, "enum": list(PAYMENT_STATUSES)},
        invoice_id=INT,
        supplier=ref("PartyRef"),
        amount=MONEY,
        method=nullable({**STR, "enum": ["cash", "bank", "on_account", None]}),
        requester=nullable(ref("Member")),
        paid_by=nullable(ref("Member")),
        paid_at=nullable(TIME),
        instance_id=nullable(INT),
        created_at=TIME,
    ),
    "PaymentRequestPage": _page("PaymentRequest"),
}


def qty(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.001")))


def date(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def party_ref(p: Party | None) -> dict[str, Any] | None:
    return None if p is None else {"id": p.id, "code": p.code, "name": p.name}


def item_ref(i: Item) -> dict[str, Any]:
    return {"id": i.id, "code": i.code, "name": i.name}


def people(ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    return members(i for i in ids if i)


def purchase_request(
    req: PurchaseRequest, who: dict[int, Any], order_ids: list[int]
) -> dict[str, Any]:
    dept = req.department
    return {
        "id": req.id,
        "number": req.number,
        "status": req.status,
        "requester": who.get(req.requester_id),
        "department": None if dept is None else {"id": dept.id, "name": dept.name},
        "project": req.project,
        "reason": req.reason,
        "is_asset": req.is_asset,
        "asset_number": req.asset_number,
        "amount_total": money(req.amount_total),
        "instance_id": req.instance_id,
        "order_ids": order_ids,
        "created_at": iso(req.created_at),
        "submitted_at": iso(req.submitted_at),
        "approved_at": iso(req.approved_at),
        "lines": [
            {
                "id": line.id,
                "item": item_ref(line.item),
                "supplier": party_ref(line.supplier),
                "description": line.description,
                "qty": qty(line.qty),
                "unit_price": money(line.unit_price),
                "amount": money(line.amount),
            }
            for line in req.lines
        ],
    }


def purchase_order(order: PurchaseOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "supplier": party_ref(order.supplier),
        "request_id": order.request_id,
        "is_asset": order.is_asset,
        "asset_number": order.asset_number,
        "amount_total": money(order.amount_total),
        "supplier_reference": order.supplier_reference,
        "expected_on": date(order.expected_on),
        "sent_at": iso(order.sent_at),
        "confirmed_at": iso(order.confirmed_at),
        "created_at": iso(order.created_at),
        "lines": [
            {
                "id": line.id,
                "item": item_ref(line.item),
                "description": line.description,
                "qty": qty(line.qty),
                "unit_price": money(line.unit_price),
                "amount": money(line.amount),
                "received_qty": qty(line.received_qty),
                "invoiced_qty": qty(line.invoiced_qty),
                "open_qty": qty(line.open_qty),
            }
            for line in order.lines
        ],
    }


def goods_receipt(receipt: GoodsReceipt, who: dict[int, Any]) -> dict[str, Any]:
    loc = receipt.location
    return {
        "id": receipt.id,
        "number": receipt.number,
        "status": receipt.status,
        "order_id": receipt.order_id,
        "order_number": receipt.order.number,
        "supplier": party_ref(receipt.order.supplier),
        "location": None if loc is None else {"id": loc.id, "code": loc.code, "name": loc.name},
        "received_by": who.get(receipt.received_by_id),
        "note": receipt.note,
        "return_of_id": receipt.return_of_id,
        "received_at": iso(receipt.received_at),
        "lines": [
            {
                "id": line.id,
                "order_line_id": line.order_line_id,
                "item": item_ref(line.item),
                "qty": qty(line.qty),
                "unit_cost": money(line.unit_cost),
            }
            for line in receipt.lines
        ],
    }


def supplier_invoice(invoice: SupplierInvoice, who: dict[int, Any]) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "invoice_no": invoice.invoice_no,
        "status": invoice.status,
        "mismatch": invoice.mismatch,
        "order_id": invoice.order_id,
        "supplier": party_ref(invoice.supplier),
        "amount_total": money(invoice.amount_total),
        "invoice_date": date(invoice.invoice_date),
        "entered_by": who.get(invoice.entered_by_id),
        "created_at": iso(invoice.created_at),
        "lines": [
            {
                "id": line.id,
                "order_line_id": line.order_line_id,
                "item": item_ref(line.order_line.item),
                "qty": qty(line.qty),
                "unit_price": money(line.unit_price),
                "amount": money(line.amount),
            }
            for line in invoice.lines
        ],
    }


def payment_request(payment: PaymentRequest, who: dict[int, Any]) -> dict[str, Any]:
    """No bank account here: it is finance's, shown on their pages (field rights, S10.3)."""
    return {
        "id": payment.id,
        "number": payment.number,
        "status": payment.status,
        "invoice_id": payment.invoice_id,
        "supplier": party_ref(payment.supplier),
        "amount": money(payment.amount),
        "method": payment.method,
        "requester": who.get(payment.requester_id),
        "paid_by": who.get(payment.paid_by_id),
        "paid_at": iso(payment.paid_at),
        "instance_id": payment.instance_id,
        "created_at": iso(payment.created_at),
    }
