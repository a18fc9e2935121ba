"""Customers and suppliers: the list (search, filters, keyset, export), the form's rules, the
party's page, contacts added and removed in place, permissions and tenant isolation."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from modules.crm import services
from modules.crm.models import Party, PartyContact
from suite.db import db
from suite.tenancy import system
from tests.modules.crm.conftest import xlsx_rows
from tests.suite.test_tenancy import rows_of

FORM = {
    "code": "SUP-004",
    "name": "绿叶物流",
    "is_supplier": "y",
    "phone": "021-5555 1234",
    "email": "sales@lvye.example.cn",
    "bank_name": "中国银行 上海分行",
    "bank_account": "4563 5100 0000 1234",
    "payment_terms": "net_30",
    "active": "y",
}


def party_id(app, ws_id: int, code: str) -> int:
    with app.app_context(), system():
        return db.session.scalar(
            sa.select(Party.id).where(Party.workspace_id == ws_id, Party.code == code)
        )


def codes_in(html: str) -> list[str]:
    return re.findall(r'<small class="doc-no">([A-Z]+-\d+)', html)


# --- services -------------------------------------------------------------------------------------


def test_every_rule_is_reported_at_once(app, demo, in_workspace):
    data = services.PartyInput(
        code="sup-001",
        name=" ",
        email="not an address",
        bank_account="6222 02O0 1234",
        payment_terms="weekly",
    )
    with in_workspace(demo):
        problems = services.party_problems(data)
    assert problems == {
        "code": "The code SUP-001 is already used by 华盛包装有限公司.",
        "name": "This field is required.",
        "is_supplier": "Tick supplier, customer or both.",
        "email": "Not a valid e-mail address.",
        "bank_account": "A bank account has digits and spaces only.",
        "payment_terms": "Not a valid choice.",
    }


def test_a_bank_account_is_cleaned_and_needs_six_digits(app, demo, in_workspace):
    with in_workspace(demo):
        assert services.bank_account_problem("1234 5") == "A bank account has at least 6 digits."
        party = services.save_party(
            None,
            services.PartyInput(
                code=" SUP-009 ", name="A", is_supplier=True, bank_account=" 6222  0200 1234 "
            ),
        )
        db.session.commit()
        assert (party.code, party.bank_account) == ("SUP-009", "6222 0200 1234")


# --- list, search, filters, export ----------------------------------------------------------------


def test_the_list_shows_active_parties_by_code(demo, demo_login):
    client = demo_login("buyer")
    resp = client.get("/crm/parties")
    assert resp.status_code == 200
    assert codes_in(resp.text) == ["CUS-001", "CUS-002", "SUP-001", "SUP-002", "SUP-003"]
    assert "Export to Excel" in resp.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=sup-002", ["SUP-002"]),  # code, any case
        ("q=丰收", ["SUP-002"]),  # name
        ("q=王经理", ["SUP-001"]),  # a contact's name
        ("q=05718888", ["CUS-001", "CUS-002", "SUP-001", "SUP-002", "SUP-003"]),  # phone, no gaps
        ("q=138+0000", ["CUS-001", "CUS-002", "SUP-001", "SUP-002", "SUP-003"]),  # contact phone
        ("q=100%25", []),  # a literal %, not a wildcard
        ("kind=customer", ["CUS-001", "CUS-002"]),
        ("kind=supplier&q=联想", ["SUP-003"]),
        ("status=inactive", []),
    ],
)
def test_search_and_filters(demo, demo_login, query, expected):
    client = demo_login("finance")
    assert codes_in(client.get(f"/crm/parties?{query}").text) == expected


def test_an_inactive_party_is_listed_only_when_asked_for(app, demo, demo_login, in_workspace):
    with in_workspace(demo):
        db.session.scalar(sa.select(Party).where(Party.code == "SUP-003")).active = False
        db.session.commit()
    client = demo_login("buyer")
    assert "SUP-003" not in codes_in(client.get("/crm/parties").text)
    assert codes_in(client.get("/crm/parties?status=inactive").text) == ["SUP-003"]
    assert len(codes_in(client.get("/crm/parties?status=all").text)) == 5


def test_search_as_you_type_answers_the_results_fragment(demo, demo_login):
    client = demo_login("buyer")
    resp = client.htmx("GET", "/crm/parties?q=SUP-00&kind=supplier", target="party-results")
    assert resp.status_code == 200
    assert resp.text.lstrip().startswith('<div id="party-results">') and "<html" not in resp.text
    assert codes_in(resp.text) == ["SUP-001", "SUP-002", "SUP-003"]
    # the export link carries the same filters
    assert 'href="/crm/parties/export.xlsx?q=SUP-00&amp;kind=supplier"' in resp.text


def test_keyset_pages_follow_the_code_index(app, make_workspace, make_member, login_as, client):
    ws = make_workspace("many")
    make_member(ws, "boss", roles=("suite.admin",))
    with app.app_context(), system():
        from suite.tenancy import use_workspace

        with use_workspace(ws.id):
            for n in range(27, 0, -1):  # created in reverse: the list still runs by code
                services.save_party(
                    None,
                    services.PartyInput(code=f"P-{n:03d}", name=f"Party {n}", is_customer=True),
                )
            db.session.commit()
    login_as(client, "boss")
    first = client.get("/crm/parties").text
    assert codes_in(first) == [f"P-{n:03d}" for n in range(1, 26)]
    more = re.search(r'href="(/crm/parties\?after=P-025)"', first)
    assert more, "no Load more link after the 25th row"
    second = client.get(more.group(1)).text
    assert codes_in(second) == ["P-026", "P-027"]
    assert "after=" not in second.split('id="party-rows"')[1]


def test_export_is_the_filtered_list_as_excel(demo, demo_login):
    client = demo_login("finance")
    rows = xlsx_rows(client.get("/crm/parties/export.xlsx?kind=supplier"))
    assert rows[0][:4] == ["Code", "Name", "Supplier", "Customer"]
    assert [r[0] for r in rows[1:]] == ["SUP-001", "SUP-002", "SUP-003"]
    sup1 = rows[1]
    assert sup1[1] == "华盛包装有限公司" and sup1[2:4] == ["Yes", "No"]
    assert sup1[9] == "3901 0012 0900 1234 567"  # text, not a number that loses digits
    assert sup1[10] == "Month-end settlement"
    assert [r[0] for r in xlsx_rows(client.get("/crm/parties/export.xlsx?q=王经理"))[1:]] == [
        "SUP-001"
    ]


# --- the form ------------------------------------------------------------------------------------


def test_a_new_supplier_is_saved_and_shown(app, demo, demo_login):
    client = demo_login("sales_manager")
    resp = client.form("/crm/parties/new", FORM)
    pid = party_id(app, demo, "SUP-004")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/crm/parties/{pid}"
    with app.app_context(), system():
        p = db.session.get(Party, pid)
        assert (p.name, p.is_supplier, p.is_customer, p.payment_terms, p.active) == (
            "绿叶物流",
            True,
            False,
            "net_30",
            True,
        )
    page = client.get(f"/crm/parties/{pid}").text
    assert "绿叶物流" in page and "4563 5100 0000 1234" in page and "Net 30 days" in page
    assert "History" in page and "created" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"code": "sup-001"}, "code", "The code SUP-001 is already used by 华盛包装有限公司."),
        ({"code": "SUP 4"}, "code", "A code has no spaces."),
        ({"name": ""}, "name", "This field is required."),
        ({"email": "sales@"}, "email", "Not a valid e-mail address."),
        ({"bank_account": "4563-5100-0000"}, "bank_account", "digits and spaces only"),
        ({"payment_terms": "weekly"}, "payment_terms", "Not a valid choice"),
        ({"is_supplier": ""}, "is_supplier", "Tick supplier, customer or both."),
    ],
)
def test_bad_input_is_422_next_to_the_field_and_writes_nothing(
    app, demo, demo_login, change, field, message
):
    client = demo_login("sales_manager")
    before = rows_of(app, demo)
    resp = client.form("/crm/parties/new", {**FORM, **change})
    assert resp.status_code == 422
    html = resp.text
    error = re.search(rf'<p class="error" id="err-{field}">([^<]*)</p>', html)
    assert error and message in error.group(1).replace("&#39;", "'"), html[:3000]
    assert rows_of(app, demo) == before


def test_the_form_answers_its_fragment_to_htmx(demo, demo_login):
    client = demo_login("sales_manager")
    resp = client.htmx("POST", "/crm/parties/new", target="party-form", data={**FORM, "email": "x"})
    assert resp.status_code == 422
    assert resp.text.lstrip().startswith('<form id="party-form"') and "<html" not in resp.text


def test_edit_keeps_the_code_unique_and_saves_changes(app, demo, demo_login):
    client = demo_login("sales_manager")
    pid = party_id(app, demo, "SUP-002")
    form = client.get(f"/crm/parties/{pid}/edit").text
    assert 'value="SUP-002"' in form and 'value="1523 0101 0400 7654 321"' in form
    data = {**FORM, "code": "SUP-001", "name": "丰收农资有限公司", "active": "y"}
    assert client.form(f"/crm/parties/{pid}/edit", data).status_code == 422
    data["code"] = "SUP-002"
    assert client.form(f"/crm/parties/{pid}/edit", data).status_code == 303
    with app.app_context(), system():
        p = db.session.get(Party, pid)
        assert (p.code, p.email, p.payment_terms, p.active) == (
            "SUP-002",
            "sales@lvye.example.cn",
            "net_30",
            True,
        )
        assert [c.name for c in p.contacts] == ["李红"]  # contacts are not the form's business


# --- contacts -----------------------------------------------------------------------------------


def test_contacts_are_added_and_removed_in_place(app, demo, demo_login):
    client = demo_login("sales")
    pid = party_id(app, demo, "CUS-001")
    target = f"party-{pid}-contacts"
    url = f"/crm/parties/{pid}/contacts"
    resp = client.htmx(
        "POST",
        url,
        target=target,
        data={
            "contact-name": "孙丽",
            "contact-title": "采购主管",
            "contact-phone": "139 1111 2222",
        },
    )
    assert resp.status_code == 200
    assert resp.text.lstrip().startswith(f'<section id="{target}"') and "<html" not in resp.text
    assert resp.headers["HX-Trigger"] == "crm:party-changed"
    assert "孙丽" in resp.text and "赵强" in resp.text
    with app.app_context(), system():
        added = db.session.scalar(sa.select(PartyContact).where(PartyContact.name == "孙丽"))
        assert (added.party_id, added.title, added.phone) == (pid, "采购主管", "139 1111 2222")
        added_id = added.id

    bad = client.htmx("POST", url, target=target, data={"contact-name": "", "contact-email": "@"})
    assert bad.status_code == 422
    assert 'id="err-contact-name"' in bad.text and 'id="err-contact-email"' in bad.text
    assert '<details class="md-add" open>' in bad.text

    gone = client.htmx("POST", f"{url}/{added_id}/delete", target=target)
    assert gone.status_code == 200 and "孙丽" not in gone.text and "赵强" in gone.text
    with app.app_context(), system():
        assert db.session.get(PartyContact, added_id) is None
    # without HTMX: a plain form post, then back to the party's page
    plain = client.form(url, {"contact-name": "周七"})
    assert plain.status_code == 303 and plain.headers["Location"] == f"/crm/parties/{pid}"
    assert "周七" in client.get(f"/crm/parties/{pid}").text


def test_a_contact_of_another_party_cannot_be_removed_through_this_one(app, demo, demo_login):
    client = demo_login("sales")
    sup1, sup2 = party_id(app, demo, "SUP-001"), party_id(app, demo, "SUP-002")
    with app.app_context(), system():
        contact = db.session.scalar(sa.select(PartyContact.id).where(PartyContact.party_id == sup2))
    assert client.form(f"/crm/parties/{sup1}/contacts/{contact}/delete").status_code == 404
    with app.app_context(), system():
        assert db.session.get(PartyContact, contact) is not None


# --- permissions, menu, tenancy -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "read", "manage"),
    [
        ("admin", True, True),
        ("sales", True, True),
        ("sales_manager", True, True),
        ("buyer", True, False),
        ("finance", True, False),
        ("gm", True, False),
        ("staff", False, False),
        ("warehouse", False, False),
    ],
)
def test_who_may_see_and_change_parties(app, demo, demo_login, login, read, manage):
    client = demo_login(login)
    pid = party_id(app, demo, "SUP-001")
    home = client.get("/").text
    assert ('href="/crm/parties"' in home) is read
    for url in ("/crm/parties", f"/crm/parties/{pid}", "/crm/parties/export.xlsx"):
        assert client.get(url).status_code == (200 if read else 403), url
    for url in ("/crm/parties/new", f"/crm/parties/{pid}/edit"):
        assert client.get(url).status_code == (200 if manage else 403), url
    assert client.form(f"/crm/parties/{pid}/contacts", {"contact-name": "X"}).status_code == (
        303 if manage else 403
    )
    assert ('href="/crm/parties/new' in client.get("/crm/parties").text) is (read and manage)


def test_another_workspaces_parties_answer_404_and_never_show(
    app, demo, make_workspace, make_member, client, login_as
):
    beta = make_workspace("beta", "BETA-SECRET Co")
    make_member(beta, "beta_boss", roles=("suite.admin",))
    with app.app_context(), system():
        from suite.tenancy import use_workspace

        with use_workspace(beta.id):
            p = services.save_party(
                None,
                services.PartyInput(code="SUP-001", name="BETA-SECRET supplier", is_supplier=True),
            )
            services.add_contact(p, services.ContactInput(name="BETA-SECRET contact"))
            db.session.commit()
            ids = {"party_id": p.id, "party_contact_id": p.contacts[0].id}
    make_member(_demo_ws(app, demo), "crm_admin", roles=("suite.admin",))
    login_as(client, "crm_admin")
    before = rows_of(app, beta.id)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/crm/") or not rule.arguments:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", str(ids[arg]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {**FORM, "contact-name": "x"}
            resp = client.get(url) if method == "GET" else client.form(url, data)
            assert resp.status_code == 404, (method, url, resp.status_code)
            checked += 1
    assert checked >= 5
    listing = client.get("/crm/parties?status=all")
    assert listing.status_code == 200 and "BETA-SECRET" not in listing.text
    exported = xlsx_rows(client.get("/crm/parties/export.xlsx?status=all"))
    assert len(exported) == 6 and "BETA-SECRET" not in repr(exported)
    assert rows_of(app, beta.id) == before


def _demo_ws(app, ws_id):
    from suite.tenancy import Workspace

    with app.app_context(), system():
        ws = db.session.get(Workspace, ws_id)
        db.session.expunge(ws)
        return ws


@pytest.mark.parametrize(("login", "sees"), [("finance", True), ("buyer", False), ("gm", False)])
def test_only_finance_sees_a_suppliers_bank_account(app, demo, demo_login, login, sees):
    """S10.3 on the party page, its history and the export."""
    client = demo_login(login)
    pid = party_id(app, demo, "SUP-001")
    page = client.get(f"/crm/parties/{pid}").text
    assert ("3901 0012 0900 1234 567" in page) is sees
    export = client.get("/crm/parties/export.xlsx")
    assert export.status_code == 200
    assert (b"3901 0012" in _xlsx_text(export.data)) is sees


def test_editing_without_the_bank_permission_keeps_the_bank_account(app, demo, demo_login):
    client = demo_login("sales")
    pid = party_id(app, demo, "SUP-002")
    form = client.get(f"/crm/parties/{pid}/edit").text
    assert "1523 0101" not in form
    data = {**FORM, "code": "SUP-002", "name": "丰收农资", "active": "y"}
    data.pop("bank_account", None)
    assert client.form(f"/crm/parties/{pid}/edit", data).status_code == 303
    with app.app_context(), system():
        assert db.session.get(Party, pid).bank_account == "1523 0101 0400 7654 321"


def _xlsx_text(data: bytes) -> bytes:
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    return " ".join(str(c) for row in wb.active.iter_rows(values_only=True) for c in row).encode()
