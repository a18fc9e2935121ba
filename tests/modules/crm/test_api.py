"""Parties in the JSON API: list with search, filters and keyset; read; create; change; 422 for
bad input, 403 without the permission, 404 for another workspace's ids; answers match the spec."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from modules.crm import services
from modules.crm.models import Party, PartyContact
from suite.db import db
from suite.tenancy import system, use_workspace
from tests.helpers.api import assert_invalid, spec_checker
from tests.suite.test_tenancy import rows_of

NEW = {
    "code": "SUP-004",
    "name": "绿叶物流",
    "is_supplier": True,
    "phone": "021-5555 1234",
    "email": "sales@lvye.example.cn",
    "bank_account": "4563 5100 0000 1234",
    "payment_terms": "net_30",
    "contacts": [{"name": "孙丽", "title": "经理", "phone": "139 1111 2222"}],
}


def test_list_searches_filters_and_pages_newest_first(demo, api, token_for):
    buyer = token_for("buyer")
    check = spec_checker(api)
    body = check(api(buyer, "GET", "/api/v1/parties"), 200, "/api/v1/parties")
    assert [p["code"] for p in body["items"]] == [
        "CUS-002",
        "CUS-001",
        "SUP-003",
        "SUP-002",
        "SUP-001",
    ]
    assert body["next_after"] is None
    sup1 = body["items"][-1]
    assert sup1["name"] == "华盛包装有限公司" and sup1["is_supplier"] is True
    assert sup1["bank_account"] is None  # a buyer does not see bank details (S10.3)
    assert [c["name"] for c in sup1["contacts"]] == ["王经理"]

    page1 = api(buyer, "GET", "/api/v1/parties?kind=supplier&limit=2").get_json()
    assert [p["code"] for p in page1["items"]] == ["SUP-003", "SUP-002"]
    assert page1["next_after"] == page1["items"][-1]["id"]
    page2 = api(buyer, "GET", f"/api/v1/parties?kind=supplier&limit=2&after={page1['next_after']}")
    assert [p["code"] for p in page2.get_json()["items"]] == ["SUP-001"]
    assert page2.get_json()["next_after"] is None

    found = api(buyer, "GET", "/api/v1/parties?q=13800000000&kind=customer").get_json()
    assert [p["code"] for p in found["items"]] == ["CUS-002", "CUS-001"]
    assert api(buyer, "GET", "/api/v1/parties?status=inactive").get_json()["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=vendor", "kind"),
        ("status=gone", "status"),
        ("limit=0", "limit"),
        ("after=x", "after"),
    ],
)
def test_bad_list_arguments_are_422(demo, api, token_for, query, field):
    resp = api(token_for("buyer"), "GET", f"/api/v1/parties?{query}")
    assert resp.status_code == 422 and list(resp.get_json()["errors"]) == [field]


def test_create_read_and_change_a_party(app, demo, api, token_for):
    sales = token_for("sales_manager")  # bank details need crm.party.bank
    check = spec_checker(api)
    created = check(api(sales, "POST", "/api/v1/parties", json=NEW), 201, "/api/v1/parties", "post")
    assert created["code"] == "SUP-004" and created["payment_terms"] == "net_30"
    assert created["active"] is True and created["is_customer"] is False
    assert [(c["name"], c["title"]) for c in created["contacts"]] == [("孙丽", "经理")]
    url = f"/api/v1/parties/{created['id']}"
    got = check(api(sales, "GET", url), 200, "/api/v1/parties/{party_id}")
    assert got == created

    changed = check(
        api(sales, "PATCH", url, json={"is_customer": True, "email": "", "active": False}),
        200,
        "/api/v1/parties/{party_id}",
        "patch",
    )
    assert (changed["is_supplier"], changed["is_customer"], changed["email"]) == (True, True, "")
    assert changed["active"] is False and changed["name"] == "绿叶物流"  # untouched fields stay
    assert changed["contacts"] == created["contacts"]  # not sent: kept

    replaced = api(sales, "PATCH", url, json={"contacts": [{"name": "周七"}, {"name": "吴八"}]})
    assert [c["name"] for c in replaced.get_json()["contacts"]] == ["周七", "吴八"]
    with app.app_context(), system():
        names = db.session.scalars(
            sa.select(PartyContact.name).where(PartyContact.party_id == created["id"])
        )
        assert sorted(names) == ["吴八", "周七"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {**NEW, "code": "sup-001", "email": "x@", "bank_account": "12ab"},
            {
                "code": "The code SUP-001 is already used by 华盛包装有限公司.",
                "email": "Not a valid e-mail address.",
                "bank_account": "A bank account has digits and spaces only.",
            },
        ),
        ({**NEW, "is_supplier": False}, {"is_supplier": "Tick supplier, customer or both."}),
        ({**NEW, "is_supplier": "yes"}, {"is_supplier": "Give true or false."}),
        ({**NEW, "payment_terms": "weekly"}, {"payment_terms": "Not a valid choice."}),
        ({**NEW, "name": 5}, {"name": "Give a text."}),
        ({"name": "No code", "is_customer": True}, {"code": "This field is required."}),
        ({**NEW, "rating": 5}, {"rating": "Unknown field."}),
        ({**NEW, "contacts": [{"name": ""}]}, {"contacts[0].name": "This field is required."}),
        ({**NEW, "contacts": [{"name": "A", "mobile": "1"}]}, {"contacts[0]": None}),
        ({**NEW, "code": "X" * 41}, {"code": "At most 40 characters."}),
    ],
)
def test_bad_input_is_422_with_every_field_and_writes_nothing(
    app, demo, api, token_for, body, errors
):
    sales = token_for("sales_manager")
    api(sales, "GET", "/api/v1/me")  # the token's first use stamps last_used_at
    before = rows_of(app, demo)
    assert_invalid(api(sales, "POST", "/api/v1/parties", json=body), errors)
    assert rows_of(app, demo) == before


def test_a_change_to_a_used_code_is_422(app, demo, api, token_for):
    with app.app_context(), system():
        sup2 = db.session.scalar(
            sa.select(Party.id).where(Party.workspace_id == demo, Party.code == "SUP-002")
        )
    resp = api(token_for("sales"), "PATCH", f"/api/v1/parties/{sup2}", json={"code": "SUP-001"})
    assert resp.status_code == 422 and list(resp.get_json()["errors"]) == ["code"]


def test_reading_needs_party_read_and_writing_party_manage(app, demo, api, token_for):
    with app.app_context(), system():
        sup1 = db.session.scalar(
            sa.select(Party.id).where(Party.workspace_id == demo, Party.code == "SUP-001")
        )
    staff, buyer = token_for("staff"), token_for("buyer")
    for url in ("/api/v1/parties", f"/api/v1/parties/{sup1}"):
        assert api(staff, "GET", url).status_code == 403
        assert api(buyer, "GET", url).status_code == 200
    resp = api(buyer, "POST", "/api/v1/parties", json=NEW)
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    assert api(buyer, "PATCH", f"/api/v1/parties/{sup1}", json={"name": "x"}).status_code == 403
    assert api(None, "GET", "/api/v1/parties").status_code == 401


def test_another_workspaces_party_is_404_and_never_listed(
    app, demo, api, token_for, make_workspace, make_member
):
    beta = make_workspace("beta", "BETA-SECRET Co")
    make_member(beta, "beta_boss", roles=("suite.admin",))
    with app.app_context(), use_workspace(beta.id):
        p = services.save_party(
            None, services.PartyInput(code="SUP-001", name="BETA-SECRET", is_supplier=True)
        )
        db.session.commit()
        beta_party = p.id
    admin = token_for("admin")
    before = rows_of(app, beta.id)
    url = f"/api/v1/parties/{beta_party}"
    assert api(admin, "GET", url).status_code == 404
    resp = api(admin, "PATCH", url, json={"name": "mine now"})
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    assert "BETA-SECRET" not in api(admin, "GET", "/api/v1/parties?q=BETA").text
    assert rows_of(app, beta.id) == before


def test_the_openapi_document_has_the_party_schemas(api):
    doc = api(None, "GET", "/api/v1/openapi.json").get_json()
    assert {"Party", "PartyInput", "PartyPage", "PartyContact"} <= set(doc["components"]["schemas"])
    assert {"get", "patch"} <= set(doc["paths"]["/api/v1/parties/{party_id}"])
    assert doc["paths"]["/api/v1/parties"]["post"]["operationId"] == "party_create"


def test_a_module_api_may_not_redefine_a_schema(app, monkeypatch):
    import sys
    import types

    from flask import Flask

    from suite.api.blueprint import init_api
    from suite.registry import Manifest, ManifestError, Registry

    fake = types.ModuleType("fake_module_api")
    fake.SCHEMAS = {"Error": {"type": "object"}}  # the kernel's own error shape
    monkeypatch.setitem(sys.modules, "fake_module_api", fake)
    other = Flask("clash")  # `app` (the suite's) has imported every view in order already
    other.extensions["suite.registry"] = Registry(
        manifests=[Manifest(name="m", label="M", api="fake_module_api")]
    )
    with pytest.raises(ManifestError, match=r"m: API schemas \['Error'\] are already defined"):
        init_api(other)
    assert "api" not in other.blueprints  # refused before anything was registered


def test_bank_details_are_finances_a_buyer_sees_null_and_cannot_set_them(app, demo, api, token_for):
    """S10.3: the supplier's bank account is for finance (and admins, sales managers)."""
    with app.app_context(), system():
        sup1 = db.session.scalar(
            sa.select(Party.id).where(Party.workspace_id == demo, Party.code == "SUP-001")
        )
    buyer_view = api(token_for("buyer"), "GET", f"/api/v1/parties/{sup1}").get_json()
    assert (buyer_view["bank_name"], buyer_view["bank_account"]) == (None, None)
    finance_view = api(token_for("finance"), "GET", f"/api/v1/parties/{sup1}").get_json()
    assert finance_view["bank_account"] == "3901 0012 0900 1234 567"
    resp = api(token_for("sales"), "PATCH", f"/api/v1/parties/{sup1}", json={"bank_account": "1"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"bank_account": ["You may not change bank details."]}
