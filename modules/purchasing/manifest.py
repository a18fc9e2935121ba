"""The purchasing module (采购): purchase requests, orders, goods receipts (S1)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, MenuItem, Permission, RoleSpec

manifest = Manifest(
    name="purchasing",
    models="modules.purchasing.models",
    blueprint="modules.purchasing.blueprint:bp",
    label=_l("Purchasing"),
    summary=_l("Purchase requests, orders, receipts, invoice matching, payments"),
    depends=("crm", "inventory"),
    api="modules.purchasing.api",
    workflows=(
        "modules.purchasing:workflows/purchase_request.yaml",
        "modules.purchasing:workflows/invoice_exception.yaml",
        "modules.purchasing:workflows/payment_request.yaml",
    ),
    documents={
        "purchasing.purchase_request": "modules.purchasing.services.requests:purchase_request_type",
        "purchasing.invoice_exception": "modules.purchasing.services.invoices:invoice_exception",
        "purchasing.payment_request": "modules.purchasing.services.payments:payment_request",
    },
    permissions=(
        Permission("purchasing.request.create", _l("Raise purchase requests")),
        Permission("purchasing.request.read_all", _l("See all purchase requests")),
        Permission("purchasing.request.asset_number", _l("Enter the asset number of a request")),
        Permission("purchasing.order.read", _l("See purchase orders")),
        Permission("purchasing.order.manage", _l("Send, confirm and cancel purchase orders")),
        Permission("purchasing.receipt.read", _l("See goods receipts")),
        Permission("purchasing.receipt.create", _l("Receive goods into stock")),
        Permission("purchasing.receipt.accept_asset", _l("Accept fixed assets")),
        Permission("purchasing.invoice.read", _l("See supplier invoices")),
        Permission("purchasing.invoice.create", _l("Enter supplier invoices")),
        Permission("purchasing.invoice.resolve", _l("Resolve invoice exceptions")),
        Permission("purchasing.payment.read", _l("See payment requests")),
        Permission("purchasing.payment.pay", _l("Mark payment requests paid")),
        Permission("purchasing.settings.manage", _l("Manage purchasing settings")),
    ),
    roles=(
        RoleSpec(
            "purchasing.buyer",
            _l("Buyer"),
            (
                "inventory.stock.read",  # low stock on the dashboard, on hand (S7.3)
                "inventory.item.read",  # items and warehouses (master data)
                "crm.party.read",  # suppliers
                "purchasing.request.create",
                "purchasing.request.read_all",
                "purchasing.order.read",
                "purchasing.order.manage",
                "purchasing.receipt.read",
                "purchasing.invoice.read",
                "purchasing.invoice.create",
                "purchasing.invoice.resolve",
                "purchasing.payment.read",
            ),
            demo_login="buyer",
            demo_department="production",
        ),
        RoleSpec(
            "purchasing.acceptance",
            _l("Asset acceptance"),
            (
                "purchasing.order.read",
                "purchasing.receipt.read",
                "purchasing.receipt.accept_asset",
            ),
            demo_login="acceptance",
            demo_department="management",
        ),
    ),
    grants={
        "suite.staff": ("purchasing.request.create",),
        "suite.finance": (
            "purchasing.request.read_all",
            "purchasing.request.asset_number",
            "purchasing.order.read",
            "purchasing.receipt.read",
            "purchasing.invoice.read",
            "purchasing.invoice.create",
            "purchasing.payment.read",
            "purchasing.payment.pay",
        ),
        "suite.gm": (
            "purchasing.request.read_all",
            "purchasing.order.read",
            "purchasing.receipt.read",
            "purchasing.invoice.read",
            "purchasing.payment.read",
        ),
        "inventory.warehouse": (
            "purchasing.order.read",
            "purchasing.receipt.read",
            "purchasing.receipt.create",
        ),
    },
    menus=(
        MenuItem(
            _l("Purchase requests"),
            "purchasing.request_list",
            "purchasing.request.create",
            icon="cart",
            order=200,
        ),
        MenuItem(
            _l("Purchase orders"),
            "purchasing.order_list",
            "purchasing.order.read",
            icon="order",
            order=210,
        ),
        MenuItem(
            _l("Goods receipts"),
            "purchasing.receipt_list",
            "purchasing.receipt.read",
            icon="receipt",
            order=220,
        ),
        MenuItem(
            _l("Supplier invoices"),
            "purchasing.invoice_list",
            "purchasing.invoice.read",
            icon="invoice",
            order=230,
        ),
        MenuItem(
            _l("Payment requests"),
            "purchasing.payment_list",
            "purchasing.payment.read",
            icon="payment",
            order=240,
        ),
        MenuItem(
            _l("Purchasing settings"),
            "purchasing.settings_edit",
            "purchasing.settings.manage",
            icon="settings",
            order=945,
        ),
    ),
)
