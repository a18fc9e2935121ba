"""Admin pages for users, departments and roles: create, edit, validation (422), nothing partial."""

from __future__ import annotations

import re

import sqlalchemy as sa

from suite.auth.models import Department, Membership, Role, User
from suite.db import db
from suite.tenancy import system, use_workspace


def count(app, model):
    with app.app_context(), system():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_admin_creates_a_user_who_can_log_in(app, admin_client, new_client, login_as):
    ws = admin_client.workspace
    with app.app_context(), use_workspace(ws.id):
        staff = db.session.scalar(sa.select(Role.id).where(Role.code == "suite.staff"))
    resp = admin_client.form(
        "/admin/users/new",
        {
            "login": "Dora",
            "display_name": "Dora 多拉",
            "email": "dora@example.com",
            "password": "long-enough-pw",
            "role_ids": [staff],
            "active": "y",
        },
    )
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith("/admin/users/")
    dora = new_client()
    login_as(dora, "dora", "long-enough-pw")
    assert "Dora 多拉" in dora.get("/").get_data(as_text=True)


def test_invalid_user_form_is_422_with_messages_and_writes_nothing(app, admin_client):
    users, members = count(app, User), count(app, Membership)
    resp = admin_client.form(
        "/admin/users/new",
        {"login": "bad login!", "display_name": "", "email": "not-an-email", "password": "short"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for field in ("login", "display_name", "email", "password"):
        assert f'id="err-{field}"' in html, field
    assert (count(app, User), count(app, Membership)) == (users, members)


def test_new_user_without_password_is_refused(app, admin_client):
    users = count(app, User)
    resp = admin_client.form("/admin/users/new", {"login": "nopw", "display_name": "No PW"})
    assert resp.status_code == 422
    assert 'id="err-password"' in resp.get_data(as_text=True)
    assert count(app, User) == users


def test_duplicate_login_is_refused_next_to_the_field(app, admin_client, make_member):
    make_member(admin_client.workspace, "taken")
    users = count(app, User)
    resp = admin_client.form(
        "/admin/users/new", {"login": "TAKEN", "display_name": "X", "password": "long-enough-pw"}
    )
    assert resp.status_code == 422
    assert 'id="err-login"' in resp.get_data(as_text=True)
    assert count(app, User) == users


def test_htmx_form_error_returns_the_form_fragment_with_422(admin_client):
    resp = admin_client.htmx(
        "POST", "/admin/users/new", target="user-form", data={"login": "", "display_name": ""}
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="user-form"')
    assert "<html" not in html


def test_user_cannot_be_their_own_manager(app, admin_client, make_member):
    ws = admin_client.workspace
    amy = make_member(ws, "amy")
    resp = admin_client.form(
        f"/admin/users/{amy}", {"login": "amy", "display_name": "Amy", "manager_id": amy}
    )
    assert resp.status_code == 422  # not even offered as a choice


def test_department_tree_with_head_and_cycle_refused(app, admin_client, make_member):
    ws = admin_client.workspace
    head = make_member(ws, "henry")
    resp = admin_client.form("/admin/departments/new", {"name": "Production", "head_id": head})
    assert resp.status_code == 303
    with app.app_context(), use_workspace(ws.id):
        prod = db.session.scalar(sa.select(Department).where(Department.name == "Production"))
        assert prod.head_id == head
        prod_id = prod.id
    resp = admin_client.form("/admin/departments/new", {"name": "Line 1", "parent_id": prod_id})
    assert resp.status_code == 303
    with app.app_context(), use_workspace(ws.id):
        line_id = db.session.scalar(sa.select(Department.id).where(Department.name == "Line 1"))
    html = admin_client.get("/admin/departments").get_data(as_text=True)
    assert html.index("Production") < html.index("Line 1")
    assert 'class="depth-1"' in html
    resp = admin_client.form(
        f"/admin/departments/{prod_id}", {"name": "Production", "parent_id": line_id}
    )
    assert resp.status_code == 422
    assert "inside itself" in resp.get_data(as_text=True) or "自身" in resp.get_data(as_text=True)
    with app.app_context(), use_workspace(ws.id):
        assert db.session.get(Department, prod_id).parent_id is None


def test_duplicate_department_name_at_one_level_is_refused(app, admin_client):
    assert admin_client.form("/admin/departments/new", {"name": "Sales"}).status_code == 303
    resp = admin_client.form("/admin/departments/new", {"name": "Sales"})
    assert resp.status_code == 422
    assert 'id="err-name"' in resp.get_data(as_text=True)


def test_role_edit_changes_permissions_and_keeps_admin_all(app, admin_client):
    ws = admin_client.workspace
    with app.app_context(), use_workspace(ws.id):
        staff = db.session.scalar(sa.select(Role).where(Role.code == "suite.staff"))
        admin = db.session.scalar(sa.select(Role).where(Role.code == "suite.admin"))
        staff_id, admin_id = staff.id, admin.id
    resp = admin_client.form(f"/admin/roles/{staff_id}", {"permissions": ["suite.audit.read"]})
    assert resp.status_code == 303
    resp = admin_client.form(f"/admin/roles/{admin_id}", {"permissions": []})
    assert resp.status_code == 303
    with app.app_context(), use_workspace(ws.id):
        assert db.session.get(Role, staff_id).permissions == ["suite.audit.read"]
        assert db.session.get(Role, admin_id).permissions == ["*"]
    resp = admin_client.form(f"/admin/roles/{staff_id}", {"permissions": ["no.such.perm"]})
    assert resp.status_code == 422


def test_user_list_paginates_by_keyset_and_searches(app, admin_client, make_member):
    ws = admin_client.workspace
    app.config["SUITE_PAGE_SIZE"] = 3
    try:
        for i in range(5):
            make_member(ws, f"user{i}")
        page1 = admin_client.get("/admin/users").get_data(as_text=True)
        assert len(re.findall(r'id="user-\d+-row"', page1)) == 3
        assert "after=" in page1
        after = re.search(r"after=(\d+)", page1).group(1)
        page2 = admin_client.get(
            f"/admin/users?after={after}", headers={"HX-Request": "true", "HX-Target": "user-rows"}
        )
        html2 = page2.get_data(as_text=True)
        assert html2.lstrip().startswith('<tbody id="user-rows"')
        assert len(re.findall(r'id="user-\d+-row"', html2)) == 3  # 6 members in all: boss + 5
        assert "after=" not in html2
        found = admin_client.get("/admin/users?q=user3").get_data(as_text=True)
        assert "user3" in found and "user4" not in found
    finally:
        app.config["SUITE_PAGE_SIZE"] = 25


def test_unknown_ids_are_404(admin_client):
    for url in ("/admin/users/999999", "/admin/departments/999999", "/admin/roles/999999"):
        assert admin_client.get(url).status_code == 404
    assert admin_client.get("/no/such/page").status_code == 404


def test_workspace_settings_change_time_zone_and_language(app, admin_client):
    from suite.tenancy import Workspace

    resp = admin_client.form(
        "/admin/workspace", {"name": "Acme Ltd", "timezone": "Asia/Singapore", "locale": "en"}
    )
    assert resp.status_code == 303
    with app.app_context(), system():
        ws = db.session.get(Workspace, admin_client.workspace.id)
        assert (ws.name, ws.timezone, ws.locale) == ("Acme Ltd", "Asia/Singapore", "en")
    bad_input = {"name": "", "timezone": "Mars/Base", "locale": "fr"}
    bad = admin_client.form("/admin/workspace", bad_input)
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    for field in ("name", "timezone", "locale"):
        assert f'id="err-{field}"' in html
    with app.app_context(), system():
        assert db.session.get(Workspace, admin_client.workspace.id).timezone == "Asia/Singapore"


def test_a_release_that_adds_permissions_to_a_builtin_role_offers_them_once(app, make_workspace):
    from suite.auth.services import sync_roles
    from suite.registry import RoleSpec
    from suite.tenancy import Workspace

    registry = app.extensions["suite.registry"]
    ws = make_workspace()
    spec = registry.roles["suite.staff"]
    try:
        registry.roles["suite.staff"] = RoleSpec(
            spec.code, spec.label, (*spec.permissions, "suite.audit.read")
        )
        with app.app_context(), use_workspace(ws.id):
            workspace = db.session.get(Workspace, ws.id)
            staff = sync_roles(workspace, registry)["suite.staff"]
            assert "suite.audit.read" in staff.permissions
            staff.permissions = [p for p in staff.permissions if p != "suite.audit.read"]  # admin
            db.session.commit()
            staff = sync_roles(db.session.get(Workspace, ws.id), registry)["suite.staff"]
            assert "suite.audit.read" not in staff.permissions  # the admin's choice stays
    finally:
        registry.roles["suite.staff"] = spec
