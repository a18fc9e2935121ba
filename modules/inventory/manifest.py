"""The inventory module (库存): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, RoleSpec

manifest = Manifest(
    name="inventory",
    models="modules.inventory.models",
    blueprint="modules.inventory.blueprint:bp",
    demo="modules.inventory.demo:seed",
    label=_l("Inventory"),
    summary=_l("Items, units, warehouses, the stock ledger, stocktakes"),
    depends=(),
    roles=(
        RoleSpec(
            "inventory.warehouse",
            _l("Warehouse keeper"),
            (),
            demo_login="warehouse",
            demo_department="warehouse",
            demo_head=True,
        ),
    ),
)
