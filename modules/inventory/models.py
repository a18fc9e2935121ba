"""Items, warehouses and locations; the immutable stock ledger and its balances (ARCHITECTURE 5)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite.auth.models import Department, Membership
from suite.db import DecimalType, Money, Qty, WorkspaceScoped, db, utcnow

UNITS = ("pcs", "bag", "box", "kg", "t", "m", "l", "set")  # 个 / 袋 / 箱 / 千克 / 吨 / 米 / 升 / 套


def Cost() -> DecimalType:  # noqa: N802 - a unit cost keeps 4 decimals for moving averages
    return DecimalType(18, 4)


class ItemCategory(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))

    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"),)


class Item(WorkspaceScoped, db.Model):
    """A material or product. `is_stock=False` is a non-stock item (fixed asset, service)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(sa.String(20), default="pcs")
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("item_category.id", ondelete="SET NULL"), index=True
    )
    barcode: Mapped[str | None] = mapped_column(sa.String(60))
    reorder_point: Mapped[Decimal] = mapped_column(Qty(), default=Decimal(0))
    reorder_qty: Mapped[Decimal] = mapped_column(Qty(), default=Decimal(0))
    standard_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    is_stock: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    category: Mapped[ItemCategory | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "code"),
        sa.UniqueConstraint("workspace_id", "barcode"),
        sa.Index("ix_item_workspace_id_name", "workspace_id", "name"),
    )


class Warehouse(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)

    locations: Mapped[list[Location]] = relationship(
        back_populates="warehouse", order_by="Location.code"
    )

    __table_args__ = (sa.UniqueConstraint("workspace_id", "code"),)


class Location(WorkspaceScoped, db.Model):
    """A place stock is kept in a warehouse (a shelf, a zone); every warehouse has at least one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(
        sa.ForeignKey("warehouse.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)

    warehouse: Mapped[Warehouse] = relationship(back_populates="locations")

    __table_args__ = (sa.UniqueConstraint("warehouse_id", "code"),)


class StockBalance(WorkspaceScoped, db.Model):
    """On hand per item x location, locked (FOR UPDATE) whenever a move is posted."""

    __audited__ = False  # the ledger (StockMove) is the record; this row is derived from it

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        sa.ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    qty: Mapped[Decimal] = mapped_column(Qty(), default=Decimal(0))
    value: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship()
    location: Mapped[Location] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("item_id", "location_id"),
        sa.CheckConstraint("qty >= 0", name="qty_not_negative"),
    )


class StockMove(WorkspaceScoped, db.Model):
    """One line of the immutable ledger: signed qty and value at one location."""

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # receipt issue return transfer adjustment
    qty: Mapped[Decimal] = mapped_column(Qty())  # + in, - out
    unit_cost: Mapped[Decimal] = mapped_column(Cost())
    value: Mapped[Decimal] = mapped_column(Money())  # + in, - out
    balance_qty: Mapped[Decimal] = mapped_column(Qty())  # on hand at the location after the move
    document_type: Mapped[str] = mapped_column(sa.String(60))
    document_id: Mapped[int]
    document_number: Mapped[str] = mapped_column(sa.String(40))
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    moved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship()
    location: Mapped[Location] = relationship()

    __table_args__ = (
        sa.Index("ix_stock_move_item_id_moved_at", "item_id", "moved_at"),
        sa.Index("ix_stock_move_workspace_id_moved_at", "workspace_id", "moved_at"),
        sa.Index("ix_stock_move_document", "document_type", "document_id"),
    )


# --- stock documents ------------------------------------------------------------------------------


class MaterialIssue(WorkspaceScoped, db.Model):
    """领料单: requested by a department, issued by the warehouse (stock falls on issue)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default="requested")  # issued cancelled
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("department.id", ondelete="SET NULL")
    )
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"))
    purpose: Mapped[str] = mapped_column(sa.String(300), default="")
    issued_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    issued_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    requester: Mapped[Membership] = relationship(foreign_keys=[requester_id])
    department: Mapped[Department | None] = relationship()
    location: Mapped[Location] = relationship()
    lines: Mapped[list[MaterialIssueLine]] = relationship(
        order_by="MaterialIssueLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("workspace_id", "number"),)


class MaterialIssueLine(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("material_issue.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    qty: Mapped[Decimal] = mapped_column(Qty())  # requested
    issued_qty: Mapped[Decimal | None] = mapped_column(Qty())  # set when the warehouse issues

    item: Mapped[Item] = relationship()


class StockTransfer(WorkspaceScoped, db.Model):
    """调拨单: from one location to another, posted at once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    from_location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"))
    to_location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"))
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    from_location: Mapped[Location] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location] = relationship(foreign_keys=[to_location_id])
    lines: Mapped[list[StockTransferLine]] = relationship(
        order_by="StockTransferLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("workspace_id", "number"),)


class StockTransferLine(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stock_transfer.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    qty: Mapped[Decimal] = mapped_column(Qty())

    item: Mapped[Item] = relationship()


class Stocktake(WorkspaceScoped, db.Model):
    """盘点: counting -> submitted (variance approval) -> posted | rejected."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default="counting")
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"))
    instance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="SET NULL", use_alter=True)
    )
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[dt.datetime | None]

    location: Mapped[Location] = relationship()
    created_by: Mapped[Membership] = relationship()
    lines: Mapped[list[StocktakeLine]] = relationship(
        order_by="StocktakeLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("workspace_id", "number"),)


class StocktakeLine(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stocktake.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    system_qty: Mapped[Decimal] = mapped_column(Qty())  # on hand when the sheet was made
    counted_qty: Mapped[Decimal | None] = mapped_column(Qty())

    item: Mapped[Item] = relationship()

    @property
    def variance(self) -> Decimal | None:
        return None if self.counted_qty is None else self.counted_qty - self.system_qty


class LowStockAlert(WorkspaceScoped, db.Model):
    """An item whose on hand fell below its reorder point and whose buyers were told (once).

    The row exists while the item stays low; a move that brings it back deletes it, so the next
    fall notifies again. The unique item makes "once" hold when two moves race.
    """

    __audited__ = False  # derived from the ledger, like the balances

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id", ondelete="CASCADE"), unique=True)
    on_hand: Mapped[Decimal] = mapped_column(Qty())  # when it was raised
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
