"""Stock services without HTTP: transfers move value exactly, low-stock alerts notify the buyers
once per fall below the reorder point, material issues all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.inventory.models import LowStockAlert, MaterialIssue, StockMove, StockTransfer
from modules.inventory.services import issues, low_stock, transfers
from modules.inventory.services.lines import LineInput
from modules.inventory.stock import Document, Move, post
from suite.db import db
from suite.errors import DomainError
from suite.notify.models import OutboxMessage
from tests.modules.inventory import stock_fixtures as fx
from tests.modules.inventory.stock_fixtures import balance, item, location, member, receive

demo, inside = fx.demo, fx.inside  # fixtures


def _told() -> list[tuple[int, str]]:
    return [
        (m.recipient_id, m.body)
        for m in db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.event == "inventory.low_stock", OutboxMessage.channel == "in_app")
            .order_by(OutboxMessage.id)
        )
    ]


def _issue(code: str, loc: str, qty: str) -> MaterialIssue:
    mi = issues.create(
        member("staff"), location(loc).id, "", [LineInput(item(code).id, Decimal(qty))]
    )
    issues.issue(mi, member("warehouse"))
    db.session.commit()
    return mi


def test_a_transfer_moves_quantity_and_exact_value_at_the_source_average(inside):
    with inside():
        receive("BOX-4030", "A-01", "3", "1.00")
        receive("BOX-4030", "A-01", "3", "1.01")  # 6 at 6.03: the average is 1.005
        t = transfers.create(
            member("warehouse"),
            location("A-01").id,
            location("B-01").id,
            "to B",
            [LineInput(item("BOX-4030").id, Decimal("1"))],
        )
        db.session.commit()
        assert t.number.startswith("TR-")
        out, into = db.session.scalars(
            sa.select(StockMove).where(StockMove.kind == "transfer").order_by(StockMove.id)
        ).all()
        assert (out.qty, out.value) == (Decimal("-1"), Decimal("-1.01"))  # 1.005 rounds half up
        assert (into.qty, into.value) == (Decimal("1"), Decimal("1.01"))
        assert balance("BOX-4030", "A-01") == (Decimal("5"), Decimal("5.02"))
        assert balance("BOX-4030", "B-01") == (Decimal("1"), Decimal("1.01"))
        # Moving the rest takes the whole remaining value with it: no residue stays behind.
        transfers.create(
            member("warehouse"),
            location("A-01").id,
            location("B-01").id,
            "",
            [LineInput(item("BOX-4030").id, Decimal("5"))],
        )
        db.session.commit()
        assert balance("BOX-4030", "A-01") == (Decimal("0"), Decimal("0.00"))
        assert balance("BOX-4030", "B-01") == (Decimal("6"), Decimal("6.03"))


def test_a_transfer_short_at_the_source_or_to_the_same_place_writes_nothing(inside):
    with inside():
        receive("BOX-4030", "A-01", "10", "2.40")
        before = fx.move_count()
        box = item("BOX-4030").id
        with pytest.raises(DomainError) as exc:
            transfers.create(
                member("warehouse"),
                location("A-01").id,
                location("B-01").id,
                "",
                [LineInput(box, Decimal("11"))],
            )
        assert exc.value.field == "lines-0-qty" and "10 on hand, 11 asked for" in exc.value.message
        db.session.rollback()
        with pytest.raises(DomainError) as exc:
            transfers.create(member("warehouse"), location("A-01").id, location("A-01").id, "", [])
        assert exc.value.field == "to_location_id"
        db.session.rollback()
        assert fx.move_count() == before
        assert db.session.scalar(sa.select(sa.func.count(StockTransfer.id))) == 0


def test_issues_are_all_or_nothing(inside):
    with inside():
        receive("BOX-4030", "A-01", "50", "2.40")
        mi = issues.create(
            member("staff"),
            location("A-01").id,
            "",
            [
                LineInput(item("BOX-4030").id, Decimal("40"), "lines-0"),
                LineInput(item("FERT-25").id, Decimal("1"), "lines-1"),
            ],
        )
        db.session.commit()
        fert_line = mi.lines[1].id
        with pytest.raises(DomainError) as exc:
            issues.issue(mi, member("warehouse"))
        assert exc.value.field == f"qty-{fert_line}"
        assert "0 on hand, 1 asked for" in exc.value.message
        db.session.rollback()
        assert balance("BOX-4030", "A-01") == (Decimal("50"), Decimal("120.00"))
        assert db.session.get(MaterialIssue, mi.id).status == "requested"


def test_the_buyers_are_told_once_when_an_issue_takes_an_item_below_its_reorder_point(inside):
    with inside():
        buyer = member("buyer").id
        receive("BOX-4030", "A-01", "600", "2.40")  # reorder point 500
        _issue("BOX-4030", "A-01", "50")  # 550: still above
        assert _told() == []
        _issue("BOX-4030", "A-01", "60")  # 490: below -> told
        assert _told() == [(buyer, "490 Piece on hand, below the reorder point of 500.")]
        alert = db.session.scalar(sa.select(LowStockAlert))
        assert (alert.item_id, alert.on_hand) == (item("BOX-4030").id, Decimal("490"))
        _issue("BOX-4030", "A-01", "10")  # 480: still low, not told again
        assert len(_told()) == 1
        receive("BOX-4030", "B-01", "20", "2.40")  # 500 over both locations: recovered
        assert db.session.scalar(sa.select(sa.func.count(LowStockAlert.id))) == 0
        _issue("BOX-4030", "B-01", "1")  # 499: below again -> told again
        assert [body for _who, body in _told()][-1].startswith("499 Piece on hand")
        assert len(_told()) == 2


def test_a_receipt_that_stays_below_tells_nobody_and_a_transfer_does_not_flicker(inside):
    with inside():
        receive("BOX-4030", "A-01", "480", "2.40")  # below 500, but nothing went out
        assert _told() == []
        receive("BOX-4030", "A-01", "100", "2.40")  # 580
        transfers.create(
            member("warehouse"),
            location("A-01").id,
            location("B-01").id,
            "",
            [LineInput(item("BOX-4030").id, Decimal("200"))],
        )
        db.session.commit()
        assert _told() == []  # A-01 fell to 380 but the item's total stayed 580


def test_items_without_reorder_point_or_stock_are_never_low(inside):
    with inside():
        receive("FERT-25", "A-01", "5", "180.00")  # reorder point 10: low, but no move out
        rows = low_stock.low_items()
        assert [(r.item.code, r.on_hand, r.shortfall) for r in rows] == [
            ("BOX-4030", Decimal("0"), Decimal("500")),
            ("FERT-25", Decimal("5"), Decimal("5")),
        ]
        receive("BOX-4030", "A-01", "500", "2.40")
        assert [r.item.code for r in low_stock.low_items()] == ["FERT-25"]


def test_inbound_moves_with_an_exact_value_keep_it(inside):
    with inside():
        written = post(
            [Move(item("BOX-4030").id, location("A-01").id, Decimal("3"), "return", value=10)],
            Document("test.return", 1, "RT-1"),
            None,
        )
        assert (written[0].value, written[0].unit_cost) == (Decimal("10.00"), Decimal("3.3333"))
        with pytest.raises(DomainError):
            post(
                [Move(item("BOX-4030").id, location("A-01").id, Decimal("1"), "return", value=-1)],
                Document("test.return", 2, "RT-2"),
                None,
            )
