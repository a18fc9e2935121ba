"""Tenant isolation in forms: another workspace's ids among a form's values are refused with 422
(kernel and module forms), and nothing is written in either workspace."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from suite.auth.models import Department, Membership, Role
from suite.db import db
from suite.tenancy import system
from tests.tenancy_rows import PASSWORD as ROWS_PASSWORD
from tests.tenancy_rows import SECRET, rows_of

pytest_plugins = ["tests.suite.tenancy_fixtures"]


@pytest.mark.parametrize(
    ("url_of", "field"),
    [
        (lambda ids: f"/admin/users/{ids['amy']}", "department_id"),
        (lambda ids: f"/admin/users/{ids['amy']}", "manager_id"),
        (lambda ids: f"/admin/users/{ids['amy']}", "role_ids"),
        (lambda ids: "/admin/departments/new", "parent_id"),
        (lambda ids: "/admin/departments/new", "head_id"),
    ],
)
def test_foreign_ids_in_a_form_are_refused_with_422(
    app, two_workspaces, client, login_as, url_of, field
):
    a, b = two_workspaces
    login_as(client, "boss")
    with app.app_context(), system():
        b_dept = db.session.scalar(sa.select(Department.id).where(Department.workspace_id == b.id))
        b_member = db.session.scalar(
            sa.select(Membership.id).where(Membership.workspace_id == b.id)
        )
        b_role = db.session.scalar(sa.select(Role.id).where(Role.workspace_id == b.id))
        amy = db.session.scalar(
            sa.select(Membership.id).where(
                Membership.workspace_id == a.id, Membership.user.has(login="amy")
            )
        )
    foreign = {
        "department_id": b_dept,
        "manager_id": b_member,
        "role_ids": b_role,
        "parent_id": b_dept,
        "head_id": b_member,
    }[field]
    before_a, before_b = rows_of(app, a.id), rows_of(app, b.id)
    data = {"login": "amy", "display_name": "Amy", "name": "Dept X", field: foreign}
    resp = client.form(url_of({"amy": amy}), data)
    assert resp.status_code == 422
    assert f'id="err-{field}' in resp.get_data(
        as_text=True
    ) or f'id="field-{field}' in resp.get_data(as_text=True)
    assert rows_of(app, a.id) == before_a
    assert rows_of(app, b.id) == before_b


# Module forms given one of B's ids among A's own: (url, form, the field the 422 names).
# `a:` / `b:` values are ids from A's / B's ModuleRows (tests/tenancy_rows.py).
MODULE_FORMS = {
    "request item": (
        "/purchasing/requests/new",
        {"lines-0-item_id": "b:item1", "lines-0-supplier_id": "a:party1"},
        "lines-0-item_id",
    ),
    "request supplier": (
        "/purchasing/requests/new",
        {"lines-0-item_id": "a:item1", "lines-0-supplier_id": "b:party1"},
        "lines-0-supplier_id",
    ),
    "draft request item": (  # by its requester (only they may change it)
        "/purchasing/requests/{draft_request}/edit",
        {"lines-0-item_id": "b:item2", "lines-0-supplier_id": "a:party1"},
        "lines-0-item_id",
    ),
    "issue location": (
        "/inventory/issues/new",
        {"location_id": "b:main", "lines-0-item_id": "a:item1"},
        "location_id",
    ),
    "issue item": (
        "/inventory/issues/new",
        {"location_id": "a:main", "lines-0-item_id": "b:item1"},
        "lines-0-item_id",
    ),
    "transfer from": (
        "/inventory/transfers/new",
        {"from_location_id": "b:main", "to_location_id": "a:shelf", "lines-0-item_id": "a:item1"},
        "from_location_id",
    ),
    "transfer to": (
        "/inventory/transfers/new",
        {"from_location_id": "a:main", "to_location_id": "b:shelf", "lines-0-item_id": "a:item1"},
        "to_location_id",
    ),
    "stocktake location": ("/inventory/stocktakes/new", {"location_id": "b:main"}, "location_id"),
    "stocktake item": (
        "/inventory/stocktakes/{counting_stocktake}/lines",
        {"item_id": "b:item2"},
        "item_id",
    ),
    "item category": (
        "/inventory/items/new",
        {"code": "NEW-1", "name": "New", "unit": "pcs", "category_id": "b:category"},
        "category_id",
    ),
    "receipt location": (
        "/purchasing/orders/{order}/receipts/new",
        {"location_id": "b:main", "qty-{order_line}": "1"},
        "location_id",
    ),
}
LINE_DEFAULTS = {"lines-0-qty": "1", "lines-0-unit_price": "2.40"}


@pytest.mark.parametrize("case", sorted(MODULE_FORMS))
def test_foreign_ids_in_a_module_form_are_refused_with_422(
    app, two_workspaces, beta_rows, acme_rows, client, login_as, case
):
    a, b = two_workspaces
    url, form, field = MODULE_FORMS[case]
    ids = {"a": acme_rows.ids, "b": beta_rows.ids}
    url = url.format(**acme_rows.ids)
    data = {k.format(**acme_rows.ids): v for k, v in form.items()}
    data = {k: str(ids[v[0]][v[2:]]) if v[:2] in ("a:", "b:") else v for k, v in data.items()}
    if any(k.startswith("lines-") for k in data):
        data = LINE_DEFAULTS | data
    if case == "draft request item":
        login_as(client, "acme-staff", ROWS_PASSWORD)
    else:
        login_as(client, "boss")
    before_a, before_b = rows_of(app, a.id), rows_of(app, b.id)
    resp = client.form(url, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422, (case, resp.status_code, html[:300])
    assert f'id="err-{field}"' in html, case
    assert SECRET not in html
    assert rows_of(app, a.id) == before_a
    assert rows_of(app, b.id) == before_b


def test_a_low_stock_request_for_another_workspaces_item_is_404(
    app, two_workspaces, beta_rows, client, login_as
):
    a, b = two_workspaces
    login_as(client, "boss")
    before_a = rows_of(app, a.id)
    resp = client.form("/purchasing/requests/from-low-stock", {"item_id": beta_rows.ids["item1"]})
    assert resp.status_code == 404
    assert rows_of(app, a.id) == before_a
