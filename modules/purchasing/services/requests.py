"""Purchase requests (请购单): save a draft, submit it to its process, create the orders on
final approval (one per supplier), the asset number a fixed-asset request waits for, and the
one-click request from a low-stock alert."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.crm.models import Party
from modules.inventory.models import Item
from modules.inventory.stock import on_hand
from modules.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseRequest,
    PurchaseRequestLine,
)
from modules.purchasing.services import CENT, MAX_MONEY, MAX_QTY, QTY, places_ok
from suite.auth.models import Membership, MembershipRole, Role
from suite.auth.permissions import grants, permissions_of
from suite.db import db, utcnow
from suite.documents import next_number
from suite.errors import DomainError
from suite.notify import notify
from suite.workflow import engine, tasks
from suite.workflow.models import WorkflowTask

DOC_TYPE = "purchasing.purchase_request"
DRAFT, SUBMITTED, APPROVED, ORDERED, REJECTED = (
    "draft",
    "submitted",
    "approved",
    "ordered",
    "rejected",
)
EDITABLE = (DRAFT, REJECTED)  # a rejected request can be changed and submitted again
MAX_LINES = 50


@dataclass(frozen=True)
class LineInput:
    """One line as typed: the item, its supplier (may stay empty in a draft), qty and price."""

    item_id: int
    supplier_id: int | None
    qty: Decimal
    unit_price: Decimal
    description: str = ""


def line_amount(qty: Decimal, unit_price: Decimal) -> Decimal:
    """qty x unit price, rounded half up to the fen."""
    return (qty * unit_price).quantize(CENT, ROUND_HALF_UP)


def _check_line(n: int, line: LineInput) -> dict[str, Any]:
    """The line's values checked against the current workspace's items and suppliers."""
    prefix = f"lines-{n}-"
    item = db.session.scalar(sa.select(Item).where(Item.id == line.item_id))
    if item is None:
        raise DomainError(_("Choose an item."), prefix + "item_id")
    if not item.active:
        raise DomainError(_("This item is no longer in use."), prefix + "item_id")
    if line.supplier_id is not None:
        supplier = db.session.scalar(
            sa.select(Party).where(
                Party.id == line.supplier_id, Party.is_supplier.is_(True), Party.active.is_(True)
            )
        )
        if supplier is None:
            raise DomainError(_("Choose a supplier."), prefix + "supplier_id")
    qty, price = line.qty, line.unit_price
    if qty is None or not places_ok(qty, QTY):
        raise DomainError(_("At most three decimal places."), prefix + "qty")
    if qty <= 0:
        raise DomainError(_("The quantity must be more than zero."), prefix + "qty")
    if qty > MAX_QTY:
        raise DomainError(_("The quantity is too large."), prefix + "qty")
    if price is None or not places_ok(price, CENT):
        raise DomainError(_("At most two decimal places."), prefix + "unit_price")
    if price < 0:
        raise DomainError(_("The price cannot be negative."), prefix + "unit_price")
    amount = line_amount(qty, price)
    if amount > MAX_MONEY:
        raise DomainError(_("The amount is too large."), prefix + "unit_price")
    return {
        "item_id": item.id,
        "supplier_id": line.supplier_id,
        "qty": qty,
        "unit_price": price,
        "amount": amount,
        "description": (line.description or "").strip()[:300],
    }


def returned_task(req: PurchaseRequest) -> WorkflowTask | None:
    """The requester's open edit task when the running process sent the request back (退回)."""
    return tasks.returned_task(req.instance_id, req.requester_id)


def save_request(
    req: PurchaseRequest | None,
    requester: Membership,
    *,
    lines: Sequence[LineInput],
    project: str = "",
    reason: str = "",
    is_asset: bool = False,
) -> PurchaseRequest:
    """Create a draft or change one; locked once submitted unless sent back to the requester."""
    if req is not None and req.requester_id != requester.id:
        raise DomainError(_("Only the requester can change this request."))
    if req is not None and req.status not in EDITABLE and returned_task(req) is None:
        raise DomainError(_("Only a draft can be changed. Withdraw the request first."))
    if not lines:
        raise DomainError(_("Add at least one line."), "lines")
    if len(lines) > MAX_LINES:
        raise DomainError(_("At most 50 lines."), "lines")
    checked = [_check_line(n, line) for n, line in enumerate(lines)]
    if len(project.strip()) > 120:
        raise DomainError(_("At most 120 characters."), "project")
    if req is None:
        req = PurchaseRequest(
            number=next_number("PR"),
            requester_id=requester.id,
            department_id=requester.department_id,
        )
        db.session.add(req)
    req.project, req.reason, req.is_asset = project.strip(), reason.strip(), bool(is_asset)
    # Lines are updated in place by position, so the audit trail shows what changed on each.
    for n, values in enumerate(checked):
        if n < len(req.lines):
            for key, value in values.items():
                setattr(req.lines[n], key, value)
        else:
            req.lines.append(PurchaseRequestLine(**values))
    del req.lines[len(checked) :]
    req.amount_total = sum((v["amount"] for v in checked), Decimal(0))
    db.session.flush()
    return req


def submit_request(
    req: PurchaseRequest, actor: Membership, key: str | None = None
) -> engine.Result:
    """Start the request's approval process (the route is pinned to the current version)."""
    if req.requester_id != actor.id:
        raise DomainError(_("Only the requester can submit this request."))
    if req.status not in EDITABLE:
        raise DomainError(_("This request has been submitted already."))
    if not req.lines:
        raise DomainError(_("Add at least one line."))
    if any(line.supplier_id is None for line in req.lines):
        raise DomainError(_("Choose a supplier for every line before submitting."))
    req.status, req.submitted_at = SUBMITTED, utcnow()
    db.session.flush()
    result = engine.submit(DOC_TYPE, req, actor.id, key=key)
    req.instance_id = result.instance_id
    return result


def orders_of(req: PurchaseRequest) -> list[PurchaseOrder]:
    """The orders created from the request, in number order."""
    return list(
        db.session.scalars(
            sa.select(PurchaseOrder)
            .where(PurchaseOrder.request_id == req.id)
            .order_by(PurchaseOrder.id)
        )
    )


def create_orders(req: PurchaseRequest) -> list[PurchaseOrder]:
    """One draft order per supplier with the request's lines and prices (once per request)."""
    existing = orders_of(req)
    if existing:
        return existing
    groups: dict[int, list[PurchaseRequestLine]] = {}
    for line in req.lines:
        if line.supplier_id is None:
            raise DomainError(_("Choose a supplier for every line before submitting."))
        groups.setdefault(line.supplier_id, []).append(line)
    orders = []
    for supplier_id, lines in groups.items():
        order = PurchaseOrder(
            number=next_number("PO"),
            supplier_id=supplier_id,
            request_id=req.id,
            is_asset=req.is_asset,
            asset_number=req.asset_number,
            status="draft",
        )
        for line in lines:
            order.lines.append(
                PurchaseOrderLine(
                    request_line_id=line.id,
                    item_id=line.item_id,
                    description=line.description,
                    qty=line.qty,
                    unit_price=line.unit_price,
                    amount=line.amount,
                    received_qty=Decimal(0),
                    invoiced_qty=Decimal(0),
                )
            )
        order.amount_total = sum((line.amount for line in lines), Decimal(0))
        db.session.add(order)
        orders.append(order)
    req.status = ORDERED
    db.session.flush()
    return orders


def set_asset_number(
    req: PurchaseRequest, actor: Membership, asset_number: str
) -> list[PurchaseOrder]:
    """Finance enters the fixed asset's number; the request then becomes its orders (S1.7)."""
    if not grants(permissions_of(actor), "purchasing.request.asset_number"):
        raise DomainError(_("Only finance can enter the asset number."), "asset_number")
    # Two finance clerks at once: the second waits here, then finds it ordered.
    db.session.execute(
        sa.select(PurchaseRequest.id).where(PurchaseRequest.id == req.id).with_for_update()
    )
    db.session.refresh(req)
    if not req.is_asset:
        raise DomainError(_("This is not a fixed asset purchase."), "asset_number")
    if req.status != APPROVED:
        raise DomainError(
            _("The asset number is entered once the request is approved."), "asset_number"
        )
    number = (asset_number or "").strip()
    if not number:
        raise DomainError(_("Enter the asset number."), "asset_number")
    if len(number) > 60:
        raise DomainError(_("At most 60 characters."), "asset_number")
    req.asset_number = number
    return create_orders(req)


def members_with(permission: str) -> list[int]:
    """Active members whose roles grant `permission` by name (administrators' `*` aside)."""
    role_ids = [
        r.id for r in db.session.scalars(sa.select(Role)) if permission in (r.permissions or ())
    ]
    if not role_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Membership.id)
            .join(MembershipRole, MembershipRole.membership_id == Membership.id)
            .where(MembershipRole.role_id.in_(role_ids), Membership.active.is_(True))
            .distinct()
            .order_by(Membership.id)
        )
    )


def on_approved(req: PurchaseRequest) -> None:
    """Final approval: orders at once, or (fixed asset) wait for finance's asset number."""
    req.approved_at = utcnow()
    if req.is_asset and not req.asset_number:
        req.status = APPROVED
        notify(
            members_with("purchasing.request.asset_number"),
            "purchasing.asset_number_needed",
            _("%(number)s waits for an asset number", number=req.number),
            _("The fixed asset purchase is approved. Enter its asset number to order it."),
            link=f"/purchasing/requests/{req.id}",
            channels=("in_app",),
        )
        return
    create_orders(req)


def last_supplier_of(item_id: int) -> int | None:
    """The supplier of the item's most recent order that was not cancelled."""
    return db.session.scalar(
        sa.select(PurchaseOrder.supplier_id)
        .join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
        .where(PurchaseOrderLine.item_id == item_id, PurchaseOrder.status != "cancelled")
        .order_by(PurchaseOrder.id.desc())
        .limit(1)
    )


def request_from_low_stock(item: Item, requester: Membership) -> PurchaseRequest:
    """A draft with one line: reorder qty (or reorder point - on hand) at the standard price."""
    qty = item.reorder_qty if item.reorder_qty and item.reorder_qty > 0 else None
    if qty is None:
        qty = item.reorder_point - on_hand(item.id)
    if qty <= 0:
        raise DomainError(_("%(item)s is not below its reorder point.", item=item.name), "item_id")
    line = LineInput(
        item_id=item.id,
        supplier_id=last_supplier_of(item.id),
        qty=qty,
        unit_price=item.standard_price,
    )
    return save_request(
        None, requester, lines=[line], reason=_("Low stock: %(item)s", item=item.name)
    )


class PurchaseRequestType:
    """What the workflow engine needs to know about purchase requests."""

    key = DOC_TYPE
    template = "purchasing.purchase_request"

    def get(self, document_id: int) -> PurchaseRequest | None:
        return db.session.get(PurchaseRequest, document_id)

    def values(self, req: PurchaseRequest) -> dict[str, Any]:
        return {"amount": req.amount_total, "is_asset": req.is_asset, "project": req.project}

    def title(self, req: PurchaseRequest) -> str:
        first = req.lines[0].item.name if req.lines else ""
        more = f" +{len(req.lines) - 1}" if len(req.lines) > 1 else ""
        return f"{req.number} {first}{more}".strip()

    def url(self, req: PurchaseRequest) -> str:
        return f"/purchasing/requests/{req.id}"

    def on_outcome(self, req: PurchaseRequest, status: str) -> None:
        if status == "approved":
            on_approved(req)
        else:
            req.status = REJECTED if status == "rejected" else DRAFT


purchase_request_type = PurchaseRequestType()
