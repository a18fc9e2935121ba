"""The crm module (客户): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, MenuItem, Permission, RoleSpec

manifest = Manifest(
    name="crm",
    models="modules.crm.models",
    blueprint="modules.crm.blueprint:bp",
    demo="modules.crm.demo:seed",
    label=_l("Customers"),
    summary=_l("Customers and suppliers (one Party table), leads, opportunities, complaints"),
    depends=(),
    api="modules.crm.api",
    permissions=(
        Permission("crm.party.read", _l("See customers and suppliers")),
        Permission("crm.party.manage", _l("Create and change customers and suppliers")),
        Permission("crm.party.bank", _l("See and change suppliers' bank accounts")),
    ),
    roles=(
        RoleSpec(
            "crm.sales",
            _l("Sales rep"),
            ("crm.party.read", "crm.party.manage"),
            demo_login="sales",
            demo_department="sales",
        ),
        RoleSpec(
            "crm.sales_manager",
            _l("Sales manager"),
            ("crm.party.read", "crm.party.manage", "crm.party.bank"),
            demo_login="sales_manager",
            demo_department="sales",
            demo_head=True,
        ),
    ),
    # S10.3: bank accounts are finance's (and admins'); others with the party pages don't see them
    grants={"suite.finance": ("crm.party.read", "crm.party.bank"), "suite.gm": ("crm.party.read",)},
    menus=(
        MenuItem(
            _l("Customers and suppliers"),
            "crm.party_list",
            "crm.party.read",
            icon="parties",
            order=300,
        ),
    ),
)
