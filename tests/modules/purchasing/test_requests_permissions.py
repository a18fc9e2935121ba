"""Who may open which purchasing page: role x page -> 200 / 403 (members with that one role).

Roles come from the manifests (purchasing's own and the grants it gives the kernel's staff,
finance and gm and inventory's warehouse keeper). Pages with a document use one of each kind
made in the demo workspace: a stock order with a receipt, and a fixed-asset order.
"""

from __future__ import annotations

import pytest

from tests.modules.purchasing.conftest import BOX, LAPTOP

ROLES = {
    "suite.staff": "p_staff",
    "suite.dept_head": "p_head",
    "suite.finance": "p_finance",
    "suite.gm": "p_gm",
    "purchasing.buyer": "p_buyer",
    "inventory.warehouse": "p_keeper",
    "purchasing.acceptance": "p_acceptance",
    "crm.sales": "p_sales",
}
ALL = set(ROLES)
READERS = {
    "suite.finance",
    "suite.gm",
    "purchasing.buyer",
    "inventory.warehouse",
    "purchasing.acceptance",
}
PAGES = {
    # page (with {order}, {asset}, {receipt}) -> roles that get 200
    "/purchasing/requests": {"suite.staff", "purchasing.buyer", "suite.finance", "suite.gm"},
    "/purchasing/requests/new": {"suite.staff", "purchasing.buyer"},
    "/purchasing/requests/export.xlsx": {
        "suite.staff",
        "purchasing.buyer",
        "suite.finance",
        "suite.gm",
    },
    "/purchasing/orders": READERS,
    "/purchasing/orders/export.xlsx": READERS,
    "/purchasing/orders/{order}": READERS,
    "/purchasing/receipts": READERS,
    "/purchasing/receipts/export.xlsx": READERS,
    "/purchasing/receipts/{receipt}": READERS,
    "/purchasing/receipts/new": {"inventory.warehouse", "purchasing.acceptance"},
    "/purchasing/orders/{order}/receipts/new": {"inventory.warehouse"},
    "/purchasing/orders/{asset}/receipts/new": {"purchasing.acceptance"},
}
POSTS = {
    # form posts that change something -> roles allowed past the permission check
    "/purchasing/orders/{order}/send": {"purchasing.buyer"},
    "/purchasing/orders/{order}/cancel": {"purchasing.buyer"},
    "/purchasing/requests/from-low-stock": {"suite.staff", "purchasing.buyer"},
}


@pytest.fixture
def docs(world, demo, make_member):
    order = world.order()
    receipt = world.receive(order, {BOX: "1"})
    asset = world.order(lines=[(LAPTOP, "SUP-003", "1", "6000.00")], is_asset=True)
    for role, login in ROLES.items():
        make_member(demo, login, roles=(role,))
    return {"order": order, "receipt": receipt, "asset": asset}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_page_permission_matrix(docs, new_client, login_as, role):
    client = new_client()
    login_as(client, ROLES[role])
    for page, allowed in PAGES.items():
        url = page.format(**docs)
        resp = client.get(url)
        assert resp.status_code == (200 if role in allowed else 403), (role, url)
    for page, allowed in POSTS.items():
        url = page.format(**docs)
        resp = client.form(url, {"item_id": "0"})
        if role in allowed:
            assert resp.status_code not in (403, 400), (role, url)
        else:
            assert resp.status_code == 403, (role, url)


def test_every_role_of_the_matrix_exists(app):
    registry = app.extensions["suite.registry"]
    assert set(ROLES) <= set(registry.roles)
    assert ALL - {r for pages in PAGES.values() for r in pages} == {"suite.dept_head", "crm.sales"}
