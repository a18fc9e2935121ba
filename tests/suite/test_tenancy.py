"""Tenant isolation: a member of workspace A can never read, list, change or guess B's rows.

Covers every WorkspaceScoped model and every registered route. A route's integer arguments must
be named `<table>_id` (STYLE.md) so the test knows which of B's rows to aim at.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from suite.auth.models import Department, Membership, Role
from suite.auth.services import save_department, save_role
from suite.db import db
from suite.tenancy import NO_WORKSPACE, scoped_models, system, use_workspace

SECRET = "BETA-SECRET"


@pytest.fixture
def two_workspaces(app, make_workspace, make_member):
    a = make_workspace("acme", "Acme")
    b = make_workspace("beta", f"{SECRET} Co")
    make_member(a, "boss", roles=("suite.admin",))
    make_member(a, "amy")
    with app.app_context(), use_workspace(a.id):
        save_department(None, name="Acme Sales", parent_id=None, head_id=None)
        db.session.commit()
    head = make_member(b, "beta_boss", roles=("suite.admin",), display_name=f"{SECRET} boss")
    with app.app_context(), use_workspace(b.id):
        dept = save_department(None, name=f"{SECRET} dept", parent_id=None, head_id=head)
        save_department(None, name=f"{SECRET} child", parent_id=dept.id, head_id=None)
        save_role(
            None,
            code="beta.secret",
            name=f"{SECRET} role",
            permissions=[],
            registry=app.extensions["suite.registry"],
        )
        db.session.commit()
    make_member(b, "beta_staff", display_name=f"{SECRET} staff")
    return a, b


def rows_of(app, ws_id):
    """{model: {id: snapshot}} of every scoped model's rows in one workspace (no filter)."""
    from suite.audit.recorder import snapshot

    out = {}
    with app.app_context(), system():
        for model in scoped_models():
            rows = db.session.scalars(sa.select(model).where(model.workspace_id == ws_id))
            out[model] = {sa.inspect(r).identity: snapshot(r) for r in rows}
    return out


def test_every_model_is_scoped_for_list_and_get(app, two_workspaces):
    a, b = two_workspaces
    b_rows = rows_of(app, b.id)
    assert all(b_rows[m] for m in (Department, Membership, Role))
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


def test_every_route_with_an_id_answers_404_for_another_workspaces_rows(
    app, two_workspaces, client, login_as
):
    a, b = two_workspaces
    login_as(client, "boss")
    b_rows = rows_of(app, b.id)
    before = rows_of(app, b.id)
    checked = 0
    for rule in _routes(app):
        int_args = [
            arg
            for arg, conv in rule._converters.items()
            if conv.__class__.__name__ == "IntegerConverter"
        ]
        if not int_args:
            continue
        for arg in int_args:
            model = _model_for_arg(arg)
            for ident in list(b_rows[model])[:3]:
                values = dict.fromkeys(rule.arguments, 1) | {arg: ident[0]}
                with app.test_request_context():
                    from flask import url_for

                    url = url_for(rule.endpoint, **values)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    if method == "GET":
                        resp = client.get(url)
                    else:
                        resp = client.form(url, {"name": "x", "login": "x", "display_name": "x"})
                    assert resp.status_code == 404, (method, url, resp.status_code)
                    htmx = client.htmx(method, url, target="main")
                    assert htmx.status_code == 404, (method, url, "htmx")
                    checked += 1
    assert checked >= 6  # users, departments, roles x GET/POST
    assert rows_of(app, b.id) == before


def test_every_list_page_shows_nothing_of_another_workspace(app, two_workspaces, client, login_as):
    a, b = two_workspaces
    login_as(client, "boss")
    pages = 0
    for rule in _routes(app):
        if rule.arguments or "GET" not in rule.methods:
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint)
        # The JSON API takes bearer tokens only: a cookie session gets 401 (test_api.py walks
        # it with tokens). Its OpenAPI document is public.
        api = rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
        for resp in (client.get(url), client.get(url, headers={"HX-Request": "true"})):
            assert resp.status_code in ((401,) if api else (200, 302)), (url, resp.status_code)
            assert SECRET not in _text(resp), url
        pages += 1
    assert pages >= 5
    # The audit list names events by id: only A's may appear.
    html = client.get("/admin/audit").get_data(as_text=True)
    with app.app_context(), system():
        from suite.audit.models import AuditEvent

        b_events = set(
            db.session.scalars(sa.select(AuditEvent.id).where(AuditEvent.workspace_id == b.id))
        )
    shown = {int(i) for i in re.findall(r'id="audit-(\d+)-row"', html)}
    assert shown and not shown & b_events


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
