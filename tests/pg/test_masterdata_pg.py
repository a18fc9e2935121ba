"""Master data on PostgreSQL: the same code saved twice at the same moment is one row and a
refusal (never a 500); the search, keyset and stock queries of the lists and the API run there."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.crm import services
from modules.crm.models import Party
from modules.inventory import master
from modules.inventory.stock import Document, Move, post
from suite.api import tokens
from suite.auth.models import Membership, User
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import use_workspace

pytestmark = pytest.mark.pg


def test_two_saves_of_one_code_at_once_make_one_party_and_one_refusal(
    pg_app, pg_workspace, monkeypatch
):
    ws = pg_workspace("acme")
    both_checked = threading.Barrier(2, timeout=10)
    real_check = services._party_with_code

    def check_then_wait(code, party):
        found = real_check(code, party)
        both_checked.wait()  # both transactions saw no SUP-9 before either inserts
        return found

    monkeypatch.setattr(services, "_party_with_code", check_then_wait)
    outcomes: list[str] = []

    def save(name: str) -> None:
        with pg_app.app_context(), use_workspace(ws.id):
            try:
                services.save_party(
                    None, services.PartyInput(code="SUP-9", name=name, is_supplier=True)
                )
                db.session.commit()
                outcomes.append("saved")
            except DomainError as exc:
                db.session.rollback()
                outcomes.append(f"{exc.field}: refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["code: refused", "saved"]
    with pg_app.app_context(), use_workspace(ws.id):
        assert db.session.scalar(sa.select(sa.func.count(Party.id))) == 1


def test_lists_and_api_queries_run_on_postgresql(pg_app, pg_workspace, pg_member):
    ws = pg_workspace("acme")
    pg_member(ws, "boss", roles=("suite.admin",))
    with pg_app.app_context(), use_workspace(ws.id):
        for n in (3, 1, 2):
            p = services.save_party(
                None,
                services.PartyInput(
                    code=f"SUP-{n}", name=f"供应商 {n}", is_supplier=True, phone=f"0571-8888 000{n}"
                ),
            )
            services.add_contact(p, services.ContactInput(name=f"联系人{n}", phone="138 0000 0000"))
        wh = master.save_warehouse(None, code="WH1", name="主仓库", active=True)
        box = master.save_item(
            None, master.ItemInput(code="BOX", name="Box", reorder_point=Decimal(500))
        )
        master.save_item(None, master.ItemInput(code="LAPTOP", name="Laptop", is_stock=False))
        post(
            [Move(box.id, wh.locations[0].id, Decimal(480), "receipt", unit_cost=Decimal("2.40"))],
            Document("test.receipt", 1, "GR-1"),
            None,
        )
        boss = db.session.scalar(sa.select(Membership).join(User).where(User.login == "boss"))
        boss.user.locale = "en"
        _token, secret = tokens.issue(boss, "pg")
        db.session.commit()
        box_id = box.id
    client = pg_app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}

    body = client.get("/api/v1/parties?q=0571-88880002", headers=auth).get_json()
    assert [p["code"] for p in body["items"]] == ["SUP-2"]
    body = client.get("/api/v1/parties?q=13800000000&limit=2", headers=auth).get_json()
    assert [p["code"] for p in body["items"]] == ["SUP-2", "SUP-1"]  # newest first
    assert body["next_after"] is not None
    items = client.get("/api/v1/items?kind=stock", headers=auth).get_json()["items"]
    assert [(i["code"], i["on_hand"], i["avg_cost"]) for i in items] == [
        ("BOX", "480.000", "2.4000")
    ]
    balances = client.get(f"/api/v1/stock-balances?item_id={box_id}", headers=auth).get_json()
    assert [(b["qty"], b["value"]) for b in balances["items"]] == [("480.000", "1152.00")]
    bad = client.post("/api/v1/parties", json={"code": "sup-1", "name": "x"}, headers=auth)
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"code", "is_supplier"}
