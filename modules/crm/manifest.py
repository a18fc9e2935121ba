"""The crm module (客户): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, RoleSpec

manifest = Manifest(
    name="crm",
    models="modules.crm.models",
    blueprint="modules.crm.blueprint:bp",
    demo="modules.crm.demo:seed",
    label=_l("Customers"),
    summary=_l("Customers and suppliers (one Party table), leads, opportunities, complaints"),
    depends=(),
    roles=(
        RoleSpec("crm.sales", _l("Sales rep"), (), demo_login="sales", demo_department="sales"),
        RoleSpec(
            "crm.sales_manager",
            _l("Sales manager"),
            (),
            demo_login="sales_manager",
            demo_department="sales",
            demo_head=True,
        ),
    ),
)
