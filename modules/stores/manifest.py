"""The stores module (门店): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, RoleSpec

manifest = Manifest(
    name="stores",
    label=_l("Stores"),
    summary=_l("Store tablets: checklists, daily sales, replenishment, shifts"),
    depends=("inventory",),
    roles=(
        RoleSpec(
            "stores.store_manager",
            _l("Store manager"),
            (),
            demo_login="store_manager",
            demo_department="sales",
        ),
        RoleSpec(
            "stores.area_manager",
            _l("Area manager"),
            (),
            demo_login="area_manager",
            demo_department="sales",
        ),
    ),
)
