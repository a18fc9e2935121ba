"""Purchase-to-pay documents (S1): request -> order -> receipt -> invoice -> payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modules.crm.models import Party
from modules.inventory.models import Item, Location
from suite.auth.models import Department, Membership
from suite.db import Money, Qty, WorkspaceScoped, db, utcnow


def _process_fk() -> Mapped[int | None]:
    return mapped_column(sa.ForeignKey("process_instance.id", ondelete="SET NULL", use_alter=True))


class PurchaseRequest(WorkspaceScoped, db.Model):
    """请购单: draft -> submitted -> approved -> ordered | rejected.

    A non-stock (fixed asset) request stays `approved` until finance enters an asset number.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    project: Mapped[str] = mapped_column(sa.String(120), default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    is_asset: Mapped[bool] = mapped_column(default=False)  # non-stock purchase (fixed asset)
    asset_number: Mapped[str | None] = mapped_column(sa.String(60))
    amount_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    instance_id: Mapped[int | None] = _process_fk()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    approved_at: Mapped[dt.datetime | None]

    requester: Mapped[Membership] = relationship(foreign_keys=[requester_id])
    department: Mapped[Department | None] = relationship()
    lines: Mapped[list[PurchaseRequestLine]] = relationship(
        order_by="PurchaseRequestLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "number"),
        sa.Index("ix_purchase_request_workspace_id_id", "workspace_id", "id"),
    )


class PurchaseRequestLine(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purchase_request.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("party.id"))
    description: Mapped[str] = mapped_column(sa.String(300), default="")
    qty: Mapped[Decimal] = mapped_column(Qty())
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())

    item: Mapped[Item] = relationship()
    supplier: Mapped[Party | None] = relationship()


class PurchaseOrder(WorkspaceScoped, db.Model):
    """采购订单, one per supplier: draft -> confirmed -> partially_received -> received -> billed
    -> closed, or cancelled."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id"))
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("purchase_request.id", ondelete="SET NULL"), index=True
    )
    buyer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    is_asset: Mapped[bool] = mapped_column(default=False)
    asset_number: Mapped[str | None] = mapped_column(sa.String(60))
    amount_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    sent_at: Mapped[dt.datetime | None]
    confirmed_at: Mapped[dt.datetime | None]
    supplier_reference: Mapped[str] = mapped_column(sa.String(80), default="")  # their conf. no.
    expected_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    supplier: Mapped[Party] = relationship()
    request: Mapped[PurchaseRequest | None] = relationship()
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        order_by="PurchaseOrderLine.id", cascade="all, delete-orphan"
    )
    # Read-only: the order page loads them with the order (receipts are created by services).
    receipts: Mapped[list[GoodsReceipt]] = relationship(order_by="GoodsReceipt.id", viewonly=True)

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "number"),
        sa.Index("ix_purchase_order_workspace_id_id", "workspace_id", "id"),
        sa.Index("ix_purchase_order_workspace_id_status_id", "workspace_id", "status", "id"),
        sa.Index("ix_purchase_order_supplier_id_id", "supplier_id", "id"),
    )


class PurchaseOrderLine(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purchase_order.id", ondelete="CASCADE"), index=True
    )
    request_line_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("purchase_request_line.id", ondelete="SET NULL")
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    description: Mapped[str] = mapped_column(sa.String(300), default="")
    qty: Mapped[Decimal] = mapped_column(Qty())
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    received_qty: Mapped[Decimal] = mapped_column(Qty(), default=Decimal(0))
    invoiced_qty: Mapped[Decimal] = mapped_column(Qty(), default=Decimal(0))

    item: Mapped[Item] = relationship()

    @property
    def open_qty(self) -> Decimal:
        return max(self.qty - self.received_qty, Decimal(0))


class GoodsReceipt(WorkspaceScoped, db.Model):
    """入库单 against one order. Stock lines post at once; an asset order's receipt is checked by
    the acceptance group (no stock moves)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("purchase_order.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="posted")  # or accepted / returned
    received_by_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"))
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A return to the supplier (status `returned`, negative lines) names the receipt it undoes.
    return_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("goods_receipt.id", ondelete="SET NULL"), index=True
    )

    order: Mapped[PurchaseOrder] = relationship()
    location: Mapped[Location | None] = relationship()
    received_by: Mapped[Membership] = relationship()
    lines: Mapped[list[GoodsReceiptLine]] = relationship(
        order_by="GoodsReceiptLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "number"),
        sa.Index("ix_goods_receipt_workspace_id_id", "workspace_id", "id"),
    )


class GoodsReceiptLine(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("goods_receipt.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("purchase_order_line.id"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    qty: Mapped[Decimal] = mapped_column(Qty())
    unit_cost: Mapped[Decimal] = mapped_column(Money())

    item: Mapped[Item] = relationship()
    order_line: Mapped[PurchaseOrderLine] = relationship()


class SupplierInvoice(WorkspaceScoped, db.Model):
    """供应商发票, matched three ways (order price, received qty). A mismatch is kept as
    `blocked` with an exception task for the buyer; a match creates a payment request."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    invoice_no: Mapped[str] = mapped_column(sa.String(80))  # the supplier's own number
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("purchase_order.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="matched")  # blocked cancelled
    mismatch: Mapped[str] = mapped_column(sa.Text, default="")
    amount_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    invoice_date: Mapped[dt.date | None]
    entered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"))
    instance_id: Mapped[int | None] = _process_fk()  # the buyer's exception task
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    order: Mapped[PurchaseOrder] = relationship()
    supplier: Mapped[Party] = relationship()
    lines: Mapped[list[SupplierInvoiceLine]] = relationship(
        order_by="SupplierInvoiceLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "number"),
        sa.UniqueConstraint("supplier_id", "invoice_no"),
        sa.Index("ix_supplier_invoice_workspace_id_id", "workspace_id", "id"),
        sa.Index("ix_supplier_invoice_workspace_id_status_id", "workspace_id", "status", "id"),
    )


class SupplierInvoiceLine(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supplier_invoice.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("purchase_order_line.id"), index=True)
    qty: Mapped[Decimal] = mapped_column(Qty())
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())

    order_line: Mapped[PurchaseOrderLine] = relationship()


class PaymentRequest(WorkspaceScoped, db.Model):
    """资金给付单: submitted -> approved (finance) -> paid (cash / bank / on account) | rejected."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default="submitted")
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier_invoice.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"))
    method: Mapped[str | None] = mapped_column(sa.String(20))  # cash bank on_account
    paid_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    paid_at: Mapped[dt.datetime | None]
    instance_id: Mapped[int | None] = _process_fk()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    invoice: Mapped[SupplierInvoice] = relationship()
    supplier: Mapped[Party] = relationship()
    requester: Mapped[Membership] = relationship(foreign_keys=[requester_id])

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "number"),
        sa.Index("ix_payment_request_workspace_id_id", "workspace_id", "id"),
        sa.Index("ix_payment_request_workspace_id_status_id", "workspace_id", "status", "id"),
    )
