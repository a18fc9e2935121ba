"""S1 Purchase to pay (采购到付款), through the web UI with the demo users, with exact numbers.

1. staff (Production) raises 500 boxes x 2.40 + 20 bags x 180.00 = 4,800.00;
2. routing: the department head only; 6,000.00 also finance; over 50,000.00 also the gm;
3. approval makes one draft PO-YYYY-NNNN per supplier (1,200.00 and 3,600.00); the buyer sends
   it (a PDF whose QR code opens the order) and records the supplier's confirmation;
4. the warehouse keeper receives 480 boxes: stock +480 exactly, moving average 2.4000, 20 open;
   the receipt prints 存根联 / 财务联 / 收货联 on three pages of one PDF;
5. an invoice for 500 boxes is refused naming the line and both quantities, and the buyer gets
   an exception task; one for 480 boxes matches;
6. the matched invoice's payment request (资金给付单) of 1,152.00 is approved by finance and paid
   by bank (银行付讫); the last 20 boxes are paid in cash (现金付讫, 48.00), the fertilizer on
   account (挂账, 3,600.00); both orders close;
7. a fixed asset waits for finance's asset number; the acceptance group, not the warehouse,
   accepts it.

`S1` (s1_steps.py, on the clicks of s1_ui.py) holds the steps on one app; tests/pg/test_s1_pg.py
runs the same steps on PostgreSQL.
Each test is one check of a step; `_until` runs the earlier steps to arrange its state. PDFs
are rendered only by the tests that check them (and by the full run, `_until(s1, "all")`).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.scenarios.s1_prints import POPPLER, ZBAR
from tests.scenarios.s1_steps import S1

__all__ = ["S1", "_until"]


@pytest.fixture
def s1(app: Flask) -> S1:
    return S1(app)


def _until(s1: S1, last: str) -> Any:
    """Run S1's steps up to `last`; "all" runs every step and check, the prints included.

    A print is rendered and read back only when it is `last`'s check (or for "all"); without
    poppler-utils that test skips after its other checks, and "all" leaves the prints out.
    """
    full = last == "all"

    def prints(step: str, check: Any, *args: Any) -> None:
        if last == step and not POPPLER:
            pytest.skip("poppler-utils is not installed: the print was not read back")
        if last == step or (full and POPPLER):
            check(*args)

    if last.startswith("asset"):
        return _asset_until(s1, last)
    req_id = s1.request()
    if last == "request":
        return req_id
    s1.route(req_id)
    if last == "route":
        return req_id
    box, fert = s1.orders(req_id)
    if last == "orders":
        return box, fert
    s1.send(box)
    prints("send", s1.order_print, box)
    if last == "send":
        if not ZBAR:
            pytest.skip("zbarimg (zbar-tools) is not installed: the QR code was only spied on")
        return box
    s1.confirm(box, fert)
    if last == "confirm":
        return box
    receipt_id = s1.receipt(box)
    if last == "receipt":
        return receipt_id
    s1.open_20(box)
    if last == "open":
        return box
    prints("receipt_print", s1.receipt_print, receipt_id)
    if last == "receipt_print":
        return receipt_id
    blocked_id = s1.refused_500(box)
    if last == "refused":
        return blocked_id
    s1.exception(blocked_id)
    if last == "exception":
        return blocked_id
    matched_id = s1.matched_480(box)
    if last == "matched":
        return matched_id
    payment_id = s1.bank(matched_id)
    prints("bank", s1.payment_print, payment_id, "银行付讫", "CN¥1,152.00", "壹仟壹佰伍拾贰元整")
    if last == "bank":
        return payment_id
    payment_id = s1.cash(box)
    prints("cash", s1.payment_print, payment_id, "现金付讫", "CN¥48.00", "肆拾捌元整")
    if last == "cash":
        return payment_id
    payment_id = s1.on_account(fert)
    prints("on_account", s1.payment_print, payment_id, "挂账", "CN¥3,600.00", "叁仟陆佰元整")
    if last == "on_account":
        return payment_id
    assert full, last
    # The other routes and the fixed asset, in the same workspace, after all of that.
    s1.route_6000()
    s1.route_over_50000()
    s1.route_thresholds_exactly()
    return _asset_until(s1, "asset_accepted")


def _asset_until(s1: S1, last: str) -> Any:
    req_id = s1.asset_waits()
    if last == "asset_waits":
        return req_id
    order_id = s1.asset_number(req_id)
    if last == "asset_number":
        return order_id
    s1.asset_accepted(order_id)
    return order_id


# --- 1. the purchase request ----------------------------------------------------------------------


def test_s1_1_staff_of_production_raises_500_x_2_40_plus_20_x_180_totalling_4800(s1):
    _until(s1, "request")


# --- 2. the approval route ------------------------------------------------------------------------


def test_s1_2_the_4800_request_needs_only_the_department_head(s1):
    _until(s1, "route")


def test_s1_2_a_6000_request_also_needs_finance(s1):
    s1.route_6000()


def test_s1_2_a_54000_request_over_50000_also_needs_the_general_manager(s1):
    s1.route_over_50000()


def test_s1_2_exactly_5000_and_exactly_50000_are_not_above_the_thresholds(s1):
    s1.route_thresholds_exactly()


# --- 3. the purchase orders -----------------------------------------------------------------------


def test_s1_3_approval_makes_one_draft_po_per_supplier_1200_and_3600(s1):
    _until(s1, "orders")


def test_s1_3_the_buyer_sends_the_order_as_a_pdf_whose_qr_code_opens_the_order(s1):
    _until(s1, "send")


def test_s1_3_the_buyer_records_the_supplier_s_confirmation(s1):
    _until(s1, "confirm")


# --- 4. the goods receipt -------------------------------------------------------------------------


def test_s1_4_receiving_480_boxes_adds_exactly_480_at_a_moving_average_of_2_40(s1):
    _until(s1, "receipt")


def test_s1_4_the_order_shows_20_boxes_still_open(s1):
    _until(s1, "open")


def test_s1_4_the_receipt_prints_three_labelled_copies_in_one_pdf(s1):
    _until(s1, "receipt_print")


# --- 5. the supplier invoice, three-way match -----------------------------------------------------


def test_s1_5_an_invoice_for_500_boxes_is_refused_naming_the_line_and_both_quantities(s1):
    _until(s1, "refused")


def test_s1_5_the_refused_invoice_opens_an_exception_task_for_the_buyer(s1):
    _until(s1, "exception")


def test_s1_5_an_invoice_for_480_boxes_matches_and_asks_for_1152(s1):
    _until(s1, "matched")


# --- 6. the payment request -----------------------------------------------------------------------


def test_s1_6_finance_approves_and_pays_1152_by_bank_printed_with_the_bank_stamp(s1):
    _until(s1, "bank")


def test_s1_6_the_last_20_boxes_paid_in_cash_printed_with_the_cash_stamp_close_the_order(s1):
    _until(s1, "cash")


def test_s1_6_the_fertilizer_paid_on_account_printed_with_the_on_account_stamp(s1):
    _until(s1, "on_account")


# --- 7. a fixed asset -----------------------------------------------------------------------------


def test_s1_7_an_approved_fixed_asset_waits_for_finance_s_asset_number(s1):
    _until(s1, "asset_waits")


def test_s1_7_only_finance_enters_the_asset_number_and_then_the_order_is_made(s1):
    _until(s1, "asset_number")


def test_s1_7_the_acceptance_group_not_the_warehouse_accepts_the_asset(s1):
    _until(s1, "asset_accepted")
