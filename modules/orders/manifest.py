"""The orders module (订单): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest

manifest = Manifest(
    name="orders",
    label=_l("Sales orders"),
    summary=_l("Sales orders, deliveries, invoices, receipts, returns, statements"),
    depends=("crm", "inventory"),
)
