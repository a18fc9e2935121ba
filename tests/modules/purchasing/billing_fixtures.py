"""Pytest fixtures of the invoice, payment and print tests, on top of the purchasing `world`
(tests/modules/purchasing/conftest.py: documents made through the module's services). Load with
`pytest_plugins = ["tests.modules.purchasing.billing_fixtures"]`."""

from __future__ import annotations

import pytest

from tests.modules.purchasing.billing_helpers import BOX, FERT


@pytest.fixture
def box_order(world) -> int:
    """S1.3-4: the box order (500 x 2.40 from SUP-001) approved, confirmed, 480 received."""
    order_id = world.order()
    world.receive(order_id, {BOX: "480"})
    return order_id


@pytest.fixture
def two_line_order(world) -> int:
    """One supplier, two lines: 500 boxes x 2.40 (480 received) and 20 bags of fertilizer x
    180.00 (none received yet). Total 4,800.00."""
    order_id = world.order(
        lines=((BOX, "SUP-001", "500", "2.40"), (FERT, "SUP-001", "20", "180.00"))
    )
    world.receive(order_id, {BOX: "480"})
    return order_id
