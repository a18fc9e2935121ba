"""Stocktakes (盘点): the count sheet, counting, the variance approval (finance), posting gains at
the average cost (the standard price when there is no stock) and losses at the average."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.inventory.models import StockMove, Stocktake
from modules.inventory.services import stocktakes
from modules.inventory.stock import Document, Move, post
from suite.db import db
from suite.errors import DomainError
from suite.workflow import engine
from suite.workflow.models import ProcessInstance, WorkflowTask
from tests.modules.inventory import stock_fixtures as fx
from tests.modules.inventory.stock_fixtures import balance, item, location, member, receive

demo, inside, as_user = fx.demo, fx.inside, fx.as_user  # fixtures


def _sheet(counts: dict[str, str], loc: str = "A-01", add: tuple[str, ...] = ()) -> Stocktake:
    st = stocktakes.create(member("warehouse"), location(loc).id)
    for code in add:
        stocktakes.add_line(st, item(code).id)
    by_code = {line.item.code: line.id for line in st.lines}
    stocktakes.save_counts(st, {by_code[c]: Decimal(q) for c, q in counts.items()})
    db.session.commit()
    return st


def _act(login: str, st: Stocktake, command: str = "approve", **fields) -> engine.Result:
    task = db.session.scalar(
        sa.select(WorkflowTask).where(
            WorkflowTask.instance_id == st.instance_id,
            WorkflowTask.status == "open",
            WorkflowTask.assignee_id == member(login).id,
        )
    )
    result = engine.command(st.instance_id, command, member(login).id, task_id=task.id, **fields)
    db.session.commit()
    return result


def _tasks(st: Stocktake) -> list[str]:
    return [
        db.session.get(type(member("gm")), t.assignee_id).user.login
        for t in db.session.scalars(
            sa.select(WorkflowTask).where(
                WorkflowTask.instance_id == st.instance_id,
                WorkflowTask.status == "open",
                WorkflowTask.kind == "approval",
            )
        )
    ]


def test_the_sheet_snapshots_what_is_kept_there_and_counts_are_checked(inside):
    with inside():
        receive("BOX-4030", "A-01", "380", "2.40")
        receive("FERT-25", "A-01", "12", "180.00")
        receive("FERT-25", "B-01", "3", "180.00")
        st = stocktakes.create(member("warehouse"), location("A-01").id, "Month end")
        db.session.commit()
        assert re.fullmatch(r"ST-\d{4}-0001", st.number) and st.status == "counting"
        assert [(ln.item.code, ln.system_qty, ln.counted_qty) for ln in st.lines] == [
            ("BOX-4030", Decimal("380"), None),
            ("FERT-25", Decimal("12"), None),
        ]
        box = st.lines[0].id
        for bad, message in [("-1", "more than zero"), ("1.2345", "three decimal")]:
            with pytest.raises(DomainError) as exc:
                stocktakes.save_counts(st, {box: Decimal(bad)})
            assert exc.value.field == f"counted-{box}" and message in exc.value.message
        stocktakes.save_counts(st, {box: Decimal("0")})  # zero is a count
        with pytest.raises(DomainError) as exc:
            stocktakes.submit(st, member("warehouse"))
        assert exc.value.message == "Count every line first (1 not counted)."
        with pytest.raises(DomainError) as exc:
            stocktakes.add_line(st, item("BOX-4030").id)
        assert exc.value.message == "This item is on the sheet already."
        with pytest.raises(DomainError):
            stocktakes.add_line(st, item("LAPTOP-14").id)  # not a stock item


def test_losses_post_at_the_average_only_after_finance_approves(inside):
    with inside():
        receive("BOX-4030", "A-01", "380", "2.40")
        st = _sheet({"BOX-4030": "375"})
        stocktakes.submit(st, member("warehouse"), key="st-1")
        db.session.commit()
        assert st.status == "submitted" and _tasks(st) == ["finance"]
        assert stocktakes.variance_values(st) == {
            "variance_value": Decimal("12.00"),
            "gain_value": Decimal("0"),
            "loss_value": Decimal("12.00"),
            "lines_with_variance": 1,
        }
        assert balance("BOX-4030", "A-01") == (Decimal("380"), Decimal("912.00"))
        with pytest.raises(DomainError):
            stocktakes.save_counts(st, {st.lines[0].id: Decimal("1")})  # locked in approval
        assert _act("finance", st).status == "approved"
        st = db.session.get(Stocktake, st.id)
        assert st.status == "posted"
        mv = db.session.scalar(sa.select(StockMove).where(StockMove.kind == "adjustment"))
        assert (mv.qty, mv.unit_cost, mv.value, mv.document_number) == (
            Decimal("-5"),
            Decimal("2.4000"),
            Decimal("-12.00"),
            st.number,
        )
        assert balance("BOX-4030", "A-01") == (Decimal("375"), Decimal("900.00"))


def test_gains_post_at_the_average_or_the_standard_price_when_there_is_no_stock(inside):
    with inside():
        receive("BOX-4030", "A-01", "10", "2.50")
        st = _sheet({"BOX-4030": "12", "FERT-25": "2"}, add=("FERT-25",))
        assert [(ln.item.code, ln.system_qty) for ln in st.lines] == [
            ("BOX-4030", Decimal("10")),
            ("FERT-25", Decimal("0")),
        ]
        stocktakes.submit(st, member("warehouse"))
        db.session.commit()
        assert stocktakes.variance_values(st)["gain_value"] == Decimal("365.00")  # 5 + 360
        _act("finance", st)
        moves = db.session.scalars(
            sa.select(StockMove).where(StockMove.kind == "adjustment").order_by(StockMove.id)
        ).all()
        assert [(m.item.code, m.qty, m.unit_cost, m.value) for m in moves] == [
            ("BOX-4030", Decimal("2"), Decimal("2.5000"), Decimal("5.00")),
            ("FERT-25", Decimal("2"), Decimal("180.0000"), Decimal("360.00")),  # standard price
        ]
        assert balance("FERT-25", "A-01") == (Decimal("2"), Decimal("360.00"))


def test_a_large_variance_also_needs_the_general_manager(inside):
    with inside():
        receive("FERT-25", "A-01", "100", "180.00")
        st = _sheet({"FERT-25": "40"})  # 60 x 180 = 10,800 > 10,000
        stocktakes.submit(st, member("warehouse"))
        db.session.commit()
        _act("finance", st)
        assert _tasks(st) == ["gm"] and db.session.get(Stocktake, st.id).status == "submitted"
        assert fx.move_count() == 1
        _act("gm", st)
        assert db.session.get(Stocktake, st.id).status == "posted"
        assert balance("FERT-25", "A-01") == (Decimal("40"), Decimal("7200.00"))


def test_rejected_goes_back_to_counting_and_can_be_submitted_again(inside):
    with inside():
        receive("BOX-4030", "A-01", "380", "2.40")
        st = _sheet({"BOX-4030": "370"})
        stocktakes.submit(st, member("warehouse"))
        db.session.commit()
        _act("finance", st, "reject", comment="Count again, row B")
        st = db.session.get(Stocktake, st.id)
        assert st.status == "counting" and fx.move_count() == 1
        stocktakes.save_counts(st, {st.lines[0].id: Decimal("375")})
        stocktakes.submit(st, member("warehouse"))
        db.session.commit()
        _act("finance", st)
        assert db.session.get(Stocktake, st.id).status == "posted"
        assert balance("BOX-4030", "A-01") == (Decimal("375"), Decimal("900.00"))
        assert db.session.scalar(sa.select(sa.func.count(ProcessInstance.id))) == 2


def test_a_loss_larger_than_the_stock_left_at_approval_is_refused_and_nothing_posts(inside):
    with inside():
        receive("BOX-4030", "A-01", "10", "2.40")
        st = _sheet({"BOX-4030": "2"})  # -8
        stocktakes.submit(st, member("warehouse"))
        db.session.commit()
        post(  # the ledger moved meanwhile: 5 issued elsewhere
            [Move(item("BOX-4030").id, location("A-01").id, Decimal("-5"), "issue")],
            Document("test.issue", 1, "MI-T"),
            None,
        )
        db.session.commit()
        with pytest.raises(DomainError) as exc:
            _act("finance", st)
        assert "5 on hand, 8 asked for" in exc.value.message
        db.session.rollback()
        assert db.session.get(Stocktake, st.id).status == "submitted"
        assert balance("BOX-4030", "A-01")[0] == Decimal("5")


# --- pages ----------------------------------------------------------------------------------------


def test_counting_on_the_page_saves_each_line_and_shows_the_variance(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "380", "2.40")
        a01 = location("A-01").id
    c = as_user("warehouse")
    resp = c.htmx("POST", "/inventory/stocktakes/new", target="stocktake-form", data={})
    assert resp.status_code == 422 and "Please choose one." in resp.get_data(as_text=True)
    resp = c.form("/inventory/stocktakes/new", {"location_id": a01, "note": "Monthly"})
    st_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with inside():
        line_id = db.session.get(Stocktake, st_id).lines[0].id
    page = c.get(f"/inventory/stocktakes/{st_id}").get_data(as_text=True)
    assert 'class="st-big"' in page and 'inputmode="decimal"' in page
    assert "Submit for approval" in page and "Not submitted yet" not in page
    url = f"/inventory/stocktakes/{st_id}/lines/{line_id}"
    bad = c.htmx("POST", url, target=f"stocktake-line-{line_id}", data={f"counted-{line_id}": "x"})
    assert bad.status_code == 422
    assert "Not a valid quantity." in bad.get_data(as_text=True)
    ok = c.htmx(
        "POST", url, target=f"stocktake-line-{line_id}", data={f"counted-{line_id}": "3,75"}
    )
    html = ok.get_data(as_text=True)
    assert ok.status_code == 200 and html.startswith(f'<tr id="stocktake-line-{line_id}"')
    assert '<td class="num st-variance st-out">-5</td>' in html
    # Save all (plain form) and add an item found on the shelf.
    with inside():
        fert = item("FERT-25").id
    assert c.form(f"/inventory/stocktakes/{st_id}/lines", {"item_id": fert}).status_code == 303
    again = c.form(f"/inventory/stocktakes/{st_id}/lines", {"item_id": fert})
    assert again.status_code == 422
    assert "This item is on the sheet already." in again.get_data(as_text=True)
    with inside():
        fert_line = db.session.get(Stocktake, st_id).lines[1].id
    resp = c.form(f"/inventory/stocktakes/{st_id}/submit", {"key": "k1"})
    assert resp.status_code == 422
    assert "Count every line first (1 not counted)." in resp.get_data(as_text=True)
    resp = c.form(
        f"/inventory/stocktakes/{st_id}/submit",
        {"key": "k2", f"counted-{line_id}": "375", f"counted-{fert_line}": "0"},
    )
    assert resp.status_code == 303
    with inside():
        st = db.session.get(Stocktake, st_id)
        assert st.status == "submitted"
        assert [ln.counted_qty for ln in st.lines] == [Decimal("375"), Decimal("0")]
    # Locked while in approval; finance sees the lines and the approve action.
    locked = c.htmx("POST", url, data={f"counted-{line_id}": "1"})
    assert locked.status_code == 422
    page = as_user("finance").get(f"/inventory/stocktakes/{st_id}").get_data(as_text=True)
    assert "Finance review" in page and 'value="approve"' in page
    assert f'id="stocktake-{st_id}-status"' in page and "st-big" not in page
    assert as_user("sales").get(f"/inventory/stocktakes/{st_id}").status_code == 404


def test_the_list_filters_by_status_and_exports(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "5", "2.40")
        _sheet({"BOX-4030": "5"})
        st = _sheet({})
        stocktakes.save_counts(st, {st.lines[0].id: Decimal("4")})
        stocktakes.submit(st, member("warehouse"))
        db.session.commit()
    c = as_user("warehouse")
    html = c.get("/inventory/stocktakes?status=submitted").get_data(as_text=True)
    assert html.count('class="chip chip-st-submitted"') == 1
    assert "chip-st-counting" not in html
    export = c.get("/inventory/stocktakes/export.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"


def test_sent_back_the_counter_recounts_and_resubmits_withdrawn_goes_back_to_counting(inside):
    with inside():
        receive("BOX-4030", "A-01", "380", "2.40")
        st = _sheet({"BOX-4030": "370"})
        stocktakes.submit(st, member("warehouse"))
        db.session.commit()
        _act("finance", st, "send_back", target="submit", comment="Recount row B")
        st = db.session.get(Stocktake, st.id)
        assert st.status == "submitted" and stocktakes.can_count(st)
        stocktakes.save_counts(st, {st.lines[0].id: Decimal("375")})
        db.session.commit()
        edit = stocktakes.returned_task(st)
        engine.command(st.instance_id, "approve", member("warehouse").id, task_id=edit.id)
        db.session.commit()
        instance = db.session.get(ProcessInstance, st.instance_id)
        assert instance.values["variance_value"] == "12.00"  # routed on the new count
        _act("finance", st)
        assert db.session.get(Stocktake, st.id).status == "posted"
        assert balance("BOX-4030", "A-01") == (Decimal("375"), Decimal("900.00"))
        # Another one, withdrawn by the counter before anyone acted: counting again.
        st2 = _sheet({"BOX-4030": "374"})
        stocktakes.submit(st2, member("warehouse"))
        db.session.commit()
        engine.command(st2.instance_id, "withdraw", member("warehouse").id)
        db.session.commit()
        assert db.session.get(Stocktake, st2.id).status == "counting"
        assert balance("BOX-4030", "A-01")[0] == Decimal("375")


def test_the_count_sheet_shows_units_in_the_pages_language(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "380", "2.40")
        st = _sheet({}, add=("FERT-25",))
        st_id = st.id
    c = as_user("warehouse")
    assert c.form("/language", {"locale": "zh_CN"}).status_code == 303
    page = c.get(f"/inventory/stocktakes/{st_id}").get_data(as_text=True)
    assert "BOX-4030 · 个<" in page and "FERT-25 · 袋<" in page
    assert " · pcs<" not in page and " · bag<" not in page
