"""Tenant isolation: a member of workspace A can never read, list, change or guess B's rows.

Covers every WorkspaceScoped model and every registered route. A route's integer arguments must
be named `<table>_id` (STYLE.md) so the test knows which of B's rows to aim at. Workspace B holds
kernel rows and, through the modules' services (tests/tenancy_rows.py), rows in every crm,
inventory and purchasing model, with the SECRET marker in every text a page may show.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from suite.auth.models import Department, Membership, Role
from suite.db import db
from suite.tenancy import NO_WORKSPACE, scoped_models, system, use_workspace
from tests.tenancy_rows import (
    ACME_OWN,
    DOC_SECRET,
    MODULES,
    SECRET,
    module_models,
    rows_of,
)

pytest_plugins = ["tests.suite.tenancy_fixtures"]
__all__ = ["rows_of"]  # other tests import it from here


def test_every_model_is_scoped_for_list_and_get(app, two_workspaces):
    a, b = two_workspaces
    b_rows = rows_of(app, b.id)
    assert all(b_rows[m] for m in (Department, Membership, Role))
    assert len(module_models()) >= 24
    # Every model has rows in B, so every route taking its id is walked below.
    missing = sorted(m.__name__ for m in scoped_models() if not b_rows[m])
    assert not missing, f"add rows for {missing} to tests/tenancy_rows.py (or _kernel_rows)"
    with app.app_context(), use_workspace(a.id):
        for model in scoped_models():
            listed = db.session.scalars(sa.select(model)).all()
            assert all(r.workspace_id == a.id for r in listed), model
            for ident in b_rows[model]:
                db.session.expunge_all()
                assert db.session.get(model, ident) is None, (model, ident)
    with app.app_context(), use_workspace(NO_WORKSPACE):
        for model in scoped_models():
            assert db.session.scalars(sa.select(model)).all() == [], model


def test_orm_update_and_delete_cannot_reach_another_workspace(app, two_workspaces):
    a, b = two_workspaces
    before = rows_of(app, b.id)
    with app.app_context(), use_workspace(a.id):
        db.session.execute(sa.update(Department).values(sort=99))
        db.session.execute(sa.delete(Role).where(Role.code == "beta.secret"))
        db.session.commit()
    assert rows_of(app, b.id) == before


def test_new_rows_take_the_current_workspace_and_refuse_a_foreign_one(app, two_workspaces):
    a, b = two_workspaces
    with app.app_context(), use_workspace(a.id):
        d = Department(name="New")
        db.session.add(d)
        db.session.flush()
        assert d.workspace_id == a.id
        db.session.add(Department(name="Sneaky", workspace_id=b.id))
        with pytest.raises(PermissionError):
            db.session.flush()
        db.session.rollback()


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule


def _model_for_arg(arg):
    tables = {m.__table__.name: m for m in scoped_models()}
    assert arg.endswith("_id") and arg[:-3] in tables, (
        f"route argument {arg!r} must be named <table>_id of a workspace-scoped table"
    )
    return tables[arg[:-3]]


# A POST body that names the fields many forms share, so a view that forgot the workspace would
# have something to write (and rows_of(B) would change) instead of failing on an empty form.
GENERIC_FORM = {
    "name": "x",
    "login": "x",
    "display_name": "x",
    "code": "X-1",
    "qty": "1",
    "note": "x",
    "comment": "x",
    "reason": "x",
    "key": "tenancy-walk",
    "method": "cash",
    "supplier_reference": "x",
    "asset_number": "x",
    "invoice_no": "x",
    "active": "y",
}
GENERIC_JSON = {"name": "x", "code": "X-1", "title": "x", "command": "approve", "comment": "x"}


def _int_args(rule) -> list[str]:
    return [
        arg
        for arg, conv in rule._converters.items()
        if conv.__class__.__name__ == "IntegerConverter"
    ]


def _url(app, rule, values) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _targets(rule, a_rows, b_rows):
    """Argument values aiming B's rows (up to 3 per argument) at the route; any other argument
    gets B's row too, or A's (A's party with B's contact), so both mixes are tried."""
    models = {arg: _model_for_arg(arg) for arg in _int_args(rule)}
    seen = set()
    for arg, model in models.items():
        for ident in list(b_rows[model])[:3]:
            for other in (b_rows, a_rows):
                values = dict.fromkeys(rule.arguments, 1) | {arg: ident[0]}
                for name, other_model in models.items():
                    if name != arg:
                        rows = list(other[other_model]) or list(b_rows[other_model])
                        values[name] = rows[0][0]
                key = tuple(sorted(values.items()))
                if key not in seen:
                    seen.add(key)
                    yield values


def _api_token(app, ws_id, login) -> str:
    """A personal API token of `login` in the workspace (the JSON API takes bearer tokens only)."""
    from suite.api import tokens
    from suite.auth.models import User

    with app.app_context(), use_workspace(ws_id):
        me = db.session.scalar(sa.select(Membership).join(User).where(User.login == login))
        _token, secret = tokens.issue(me, "tenancy walk")
        db.session.commit()
        db.session.remove()
    return secret


def test_every_route_with_an_id_answers_404_for_another_workspaces_rows(
    app, two_workspaces, acme_rows, client, new_client, login_as
):
    a, b = two_workspaces
    login_as(client, "boss")
    csrf = client.csrf_token()
    api, bearer = new_client(), {"Authorization": f"Bearer {_api_token(app, a.id, 'boss')}"}
    a_rows, b_rows = rows_of(app, a.id), rows_of(app, b.id)
    before = rows_of(app, b.id)
    assert all(a_rows[m] for m in module_models())
    checked: set[str] = set()
    requests = 0
    for rule in _routes(app):
        if not _int_args(rule):
            continue
        for values in _targets(rule, a_rows, b_rows):
            url = _url(app, rule, values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if rule.rule.startswith("/api/"):
                    body = {} if method == "GET" else {"json": GENERIC_JSON}
                    answers = [("api", api.open(url, method=method, headers=bearer, **body))]
                else:
                    body = {} if method == "GET" else {"data": GENERIC_FORM | {"csrf_token": csrf}}
                    hx = {"HX-Request": "true", "HX-Target": "main", "X-CSRFToken": csrf}
                    answers = [
                        ("plain", client.open(url, method=method, **body)),
                        ("htmx", client.open(url, method=method, headers=hx, **body)),
                    ]
                for how, resp in answers:
                    assert resp.status_code == 404, (method, url, how, resp.status_code)
                    requests += 1
            checked.add(rule.endpoint)
    assert rows_of(app, b.id) == before
    after_a = rows_of(app, a.id)
    assert {m: after_a[m] for m in module_models()} == {m: a_rows[m] for m in module_models()}
    # Every route of the business modules with an id was aimed at B's rows (each model has some).
    module_tables = {m.__table__.name for m in module_models()}
    module_routes = {
        r.endpoint
        for r in _routes(app)
        if _int_args(r)
        and (
            r.endpoint.split(".")[0] in MODULES
            or any(arg[:-3] in module_tables for arg in _int_args(r))
        )
    }
    assert len(module_routes) >= 50
    assert sorted(module_routes - checked) == []
    assert requests >= 250


def _list_pages(app):
    """GET routes without arguments: every list page, export, report and form page."""
    for rule in _routes(app):
        if not rule.arguments and "GET" in rule.methods:
            yield rule, _url(app, rule, {})


# The widest view a list offers: every status, everyone's documents, zero stock too.
WIDEST = {"status": "all", "scope": "all", "zero": "1"}


def _filters(app, ws_id) -> dict[str, str]:
    """Query arguments naming B's rows and text: `?q=SECRET&item=<B's item>&item_id=...`."""
    from modules.purchasing.models import PurchaseOrder

    # "SECRET" finds every text of B's (case-insensitive substring); the search box echoes it,
    # which is not the whole marker.
    args = {"q": SECRET.split("-")[1]} | WIDEST
    with app.app_context(), system():
        for model in scoped_models():
            key = sa.inspect(model).primary_key
            if len(key) != 1:
                continue
            ident = db.session.scalar(sa.select(key[0]).where(model.workspace_id == ws_id).limit(1))
            if ident is not None:
                table = model.__table__.name
                args[table] = args[f"{table}_id"] = str(ident)
        args["supplier"] = args["supplier_id"] = args["party"]
        args["number"] = db.session.scalar(
            sa.select(PurchaseOrder.number).where(PurchaseOrder.workspace_id == ws_id).limit(1)
        )
    return args


def test_every_list_page_shows_nothing_of_another_workspace(
    app, two_workspaces, acme_rows, client, new_client, login_as
):
    a, b = two_workspaces
    login_as(client, "boss")
    api_client, bearer = new_client(), {"Authorization": f"Bearer {_api_token(app, a.id, 'boss')}"}
    filters = _filters(app, b.id)
    pages, api_lists = set(), 0
    for rule, url in _list_pages(app):
        # The JSON API takes bearer tokens only: a cookie session gets 401. Its OpenAPI
        # document is public. With A's token its lists hold nothing of B's either.
        api = rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
        for resp in (
            client.get(url),
            client.get(url, headers={"HX-Request": "true"}),
            client.get(url, query_string=WIDEST),
        ):
            assert resp.status_code in ((401,) if api else (200, 302)), (url, resp.status_code)
            assert SECRET not in _text(resp), url
        if rule.endpoint in MODULE_LISTS:  # A's own rows are there: the page does list rows
            assert ACME_OWN in _text(resp), url
        # Searching for B's text and filtering on B's ids finds nothing either.
        # (B's order number finds A's order of the same number: the receipt page goes there.)
        resp = client.get(url, query_string=filters, follow_redirects=True)
        assert resp.status_code in ((401,) if api else (200, 400, 422)), (url, resp.status_code)
        assert SECRET not in _text(resp), (url, "filtered")
        if api:
            # (the API refuses an unknown status such as "all" with 422: no status here)
            api_filters = {k: v for k, v in filters.items() if k != "status"}
            for query in ({}, {"scope": "all"}, api_filters):
                resp = api_client.get(url, headers=bearer, query_string=query)
                assert resp.status_code == 200, (url, query, resp.status_code)
                assert SECRET not in resp.get_data(as_text=True), (url, query)
            api_lists += 1
        pages.add(rule.endpoint)
    assert len(pages) >= 5
    assert pages >= set(MODULE_LISTS)
    assert api_lists >= 10  # parties, items, stock balances, the purchasing documents, ...
    # The audit list names events by id: only A's may appear.
    html = client.get("/admin/audit").get_data(as_text=True)
    with app.app_context(), system():
        from suite.audit.models import AuditEvent

        b_events = set(
            db.session.scalars(sa.select(AuditEvent.id).where(AuditEvent.workspace_id == b.id))
        )
    shown = {int(i) for i in re.findall(r'id="audit-(\d+)-row"', html)}
    assert shown and not shown & b_events


# The module pages listing B's rows: B's own admin sees the marker on each (so the check above
# reads real content: a page or an export that showed B's rows to A would show it too).
MODULE_LISTS = (
    "crm.party_list",
    "crm.party_export",
    "inventory.category_list",
    "inventory.item_list",
    "inventory.item_export",
    "inventory.warehouse_list",
    "inventory.warehouse_export",
    "inventory.stock_list",
    "inventory.stock_export",
    "inventory.stock_ledger",
    "inventory.stock_ledger_export",
    "inventory.recon_report",
    "inventory.recon_export",
    "inventory.low_stock",
    "inventory.issue_list",
    "inventory.issue_export",
    "inventory.transfer_list",
    "inventory.transfer_export",
    "inventory.stocktake_list",
    "inventory.stocktake_export",
    "purchasing.request_list",
    "purchasing.request_export",
    "purchasing.order_list",
    "purchasing.order_export",
    "purchasing.receipt_list",
    "purchasing.receipt_export",
    "purchasing.invoice_list",
    "purchasing.invoice_export",
    "purchasing.payment_list",
    "purchasing.payment_export",
)


def test_the_module_lists_show_the_marker_to_their_own_workspace(
    app, two_workspaces, client, login_as
):
    login_as(client, "beta_boss")
    exports = 0
    for endpoint in MODULE_LISTS:
        url = _url(app, app.url_map._rules_by_endpoint[endpoint][0], {})
        resp = client.get(url, query_string=WIDEST)
        assert resp.status_code == 200, (url, resp.status_code)
        assert DOC_SECRET in _text(resp), url
        exports += resp.mimetype.endswith("spreadsheetml.sheet")
    assert exports == 14
    # ...and B's ids answer there (the 404s above are about the workspace, not broken URLs).
    with app.app_context(), system():
        from modules.purchasing.models import PurchaseOrder

        order = db.session.scalar(
            sa.select(PurchaseOrder.id).where(PurchaseOrder.workspace_id == two_workspaces[1].id)
        )
    assert client.get(f"/purchasing/orders/{order}").status_code == 200


def _text(resp) -> str:
    """A page's text, or an Excel export's cells (every list exports to Excel)."""
    if resp.mimetype and resp.mimetype.endswith("spreadsheetml.sheet"):
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(resp.data), read_only=True)
        return repr([list(r) for ws in book.worksheets for r in ws.iter_rows(values_only=True)])
    return resp.get_data(as_text=True)


def test_search_does_not_find_another_workspaces_users(two_workspaces, client, login_as):
    login_as(client, "boss")
    resp = client.get("/admin/users?q=beta")
    assert "beta_staff" not in resp.get_data(as_text=True)


def test_objects_loaded_unscoped_earlier_do_not_leak_through_the_identity_map(
    app, two_workspaces, make_member, client, login_as
):
    """A person in both workspaces: their B membership, once in the session, stays unreachable."""
    a, b = two_workspaces
    make_member(b, "boss_in_beta", roles=("suite.admin",))
    with app.app_context(), system():
        from suite.auth.models import User

        boss = db.session.scalar(sa.select(User).where(User.login == "boss"))
        b_membership = Membership(workspace_id=b.id, user_id=boss.id)
        db.session.add(b_membership)
        db.session.commit()
        b_id = b_membership.id
    login_as(client, "boss")
    assert client.get("/").status_code == 200  # home lists both workspaces
    assert client.get(f"/admin/users/{b_id}").status_code == 404
    with app.app_context():
        from suite.tenancy import get_or_404

        with system():
            db.session.get(Membership, b_id)  # now in the identity map
        with use_workspace(a.id), app.test_request_context(), pytest.raises(NotFound):
            get_or_404(Membership, b_id)
