"""The inventory module (库存): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, MenuItem, Permission, RoleSpec

# The stock side (S7): ledger pages, material issues, transfers, stocktakes, reports.
STOCK_PERMISSIONS = (
    Permission("inventory.stock.read", _l("See stock on hand, the ledger and stock reports")),
    Permission("inventory.issue.request", _l("Request materials from the warehouse")),
    Permission("inventory.issue.issue", _l("Issue materials from the warehouse")),
    Permission("inventory.transfer.create", _l("Transfer stock between locations")),
    Permission("inventory.stocktake.count", _l("Create stocktakes and enter counts")),
)
WAREHOUSE_STOCK = tuple(p.code for p in STOCK_PERMISSIONS)
STOCK_MENUS = (
    MenuItem(_l("Stock"), "inventory.stock_list", "inventory.stock.read", icon="stock", order=400),
    MenuItem(
        _l("Material issues"),
        "inventory.issue_list",
        "inventory.issue.request",
        icon="request",
        order=410,
    ),
    MenuItem(
        _l("Stocktakes"),
        "inventory.stocktake_list",
        "inventory.stocktake.count",
        icon="stocktake",
        order=420,
    ),
)

# Master data: items, categories, warehouses and locations (views/items.py, views/warehouses.py).
MASTER_PERMISSIONS = (
    Permission("inventory.item.read", _l("See items, categories and warehouses")),
    Permission("inventory.item.manage", _l("Create and change items and categories")),
    Permission("inventory.warehouse.manage", _l("Create and change warehouses and locations")),
)
WAREHOUSE_MASTER = tuple(p.code for p in MASTER_PERMISSIONS)
MASTER_MENUS = (
    MenuItem(_l("Items"), "inventory.item_list", "inventory.item.read", icon="items", order=390),
    MenuItem(
        _l("Warehouses"),
        "inventory.warehouse_list",
        "inventory.item.read",
        icon="warehouse",
        order=430,
    ),
)

manifest = Manifest(
    name="inventory",
    models="modules.inventory.models",
    blueprint="modules.inventory.blueprint:bp",
    demo="modules.inventory.demo:seed",
    label=_l("Inventory"),
    summary=_l("Items, units, warehouses, the stock ledger, stocktakes"),
    depends=(),
    workflows=("modules.inventory:workflows/stocktake.yaml",),
    documents={"inventory.stocktake": "modules.inventory.services.stocktakes:stocktake_type"},
    api="modules.inventory.api",
    permissions=(*MASTER_PERMISSIONS, *STOCK_PERMISSIONS),
    grants={
        "suite.staff": ("inventory.issue.request",),
        "suite.finance": ("inventory.stock.read", "inventory.item.read"),
        "suite.gm": ("inventory.stock.read",),
    },
    menus=(*MASTER_MENUS, *STOCK_MENUS),
    widgets=("modules.inventory.views.stock:low_stock_widget",),
    roles=(
        RoleSpec(
            "inventory.warehouse",
            _l("Warehouse keeper"),
            (*WAREHOUSE_MASTER, *WAREHOUSE_STOCK),
            demo_login="warehouse",
            demo_department="warehouse",
            demo_head=True,
        ),
    ),
)
