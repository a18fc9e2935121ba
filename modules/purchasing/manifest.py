"""The purchasing module (采购): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, RoleSpec

manifest = Manifest(
    name="purchasing",
    models="modules.purchasing.models",
    blueprint="modules.purchasing.blueprint:bp",
    label=_l("Purchasing"),
    summary=_l("Purchase requests, orders, receipts, invoice matching, payments"),
    depends=("crm", "inventory"),
    roles=(
        RoleSpec(
            "purchasing.buyer", _l("Buyer"), (), demo_login="buyer", demo_department="production"
        ),
    ),
)
