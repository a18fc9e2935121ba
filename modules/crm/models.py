"""Counterparties (customers and suppliers in one table, ARCHITECTURE 1) and their contacts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite.db import WorkspaceScoped, db, utcnow

PAYMENT_TERMS = ("cash", "net_30", "net_60", "month_end")  # 现结 / 30天 / 60天 / 月结


class Party(WorkspaceScoped, db.Model):
    """A customer, a supplier, or both (flags), with the supplier's bank account and terms."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    is_customer: Mapped[bool] = mapped_column(default=False)
    is_supplier: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str] = mapped_column(sa.String(60), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    tax_id: Mapped[str] = mapped_column(sa.String(40), default="")  # 统一社会信用代码
    bank_name: Mapped[str] = mapped_column(sa.String(120), default="")
    bank_account: Mapped[str] = mapped_column(sa.String(60), default="")
    payment_terms: Mapped[str] = mapped_column(sa.String(20), default="month_end")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    contacts: Mapped[list[PartyContact]] = relationship(
        back_populates="party", order_by="PartyContact.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "code"),
        sa.Index("ix_party_workspace_id_name", "workspace_id", "name"),
    )


class PartyContact(WorkspaceScoped, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(120), default="")
    phone: Mapped[str] = mapped_column(sa.String(60), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")

    party: Mapped[Party] = relationship(back_populates="contacts")
