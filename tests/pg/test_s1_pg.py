"""S1 Purchase to pay on PostgreSQL: the steps of tests/scenarios/test_s1_purchase_to_pay.py (the
`S1` class, through the web UI with the demo users), with the same exact numbers.

One run takes steps 1-6 in order with every check and print (4,800.00 approved by the dept head
alone; PO-YYYY-0001 / -0002; 480 boxes in at 2.4000 with 20 open; the 500-box invoice refused,
480 matched; 1,152.00 by bank, 48.00 in cash, 3,600.00 on account), then, in the same workspace,
the other routes (6,000.00, 54,000.00, exactly 5,000.00 and 50,000.00) and the fixed asset of
step 7. Step 7 also runs on its own, in a fresh workspace.

Run with throwaway servers: `python3 scripts/with_services.py -- .venv/bin/python -m pytest
tests/pg/test_s1_pg.py`
"""

from __future__ import annotations

import pytest

from tests.scenarios.test_s1_purchase_to_pay import S1, _until

pytestmark = pytest.mark.pg


def test_s1_steps_1_to_7_on_postgresql(pg_app):
    _until(S1(pg_app), "all")


def test_s1_7_fixed_asset_on_its_own_on_postgresql(pg_app):
    _until(S1(pg_app), "asset_accepted")
