"""Login, logout, remember me, rate limiting, disabled users, safe redirects, password hashing."""

from __future__ import annotations

import sqlalchemy as sa

from suite.auth.models import LoginAttempt, User
from suite.db import db
from tests.conftest import PASSWORD


def test_login_with_login_name_then_email_and_logout(client, make_workspace, make_member, app):
    ws = make_workspace()
    make_member(ws, "alice", email="alice@example.com")
    resp = client.form("/login", {"login": "alice", "password": PASSWORD})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    resp = client.form("/logout")
    assert resp.status_code == 303
    assert client.get("/").status_code == 302  # back to the login page
    resp = client.form("/login", {"login": "ALICE@example.com", "password": PASSWORD})
    assert resp.status_code == 303


def test_wrong_password_is_422_with_message_next_to_field(client, make_workspace, make_member):
    ws = make_workspace()
    make_member(ws, "alice")
    resp = client.form("/login", {"login": "alice", "password": "nope"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="err-password"' in html
    assert client.get("/").status_code == 302


def test_empty_fields_are_422_and_record_nothing(client, ctx):
    resp = client.form("/login", {"login": "", "password": ""})
    assert resp.status_code == 422
    assert 'id="err-login"' in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)) == 0


def test_disabled_member_cannot_log_in(client, make_workspace, make_member):
    ws = make_workspace()
    make_member(ws, "bob", active=False)
    resp = client.form("/login", {"login": "bob", "password": PASSWORD})
    assert resp.status_code == 422


def test_disabled_user_account_cannot_log_in(client, make_workspace, make_member, app):
    ws = make_workspace()
    make_member(ws, "bob")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.login == "bob").values(active=False))
        db.session.commit()
    assert client.form("/login", {"login": "bob", "password": PASSWORD}).status_code == 422


def test_disabling_a_member_ends_their_session(
    app, new_client, make_workspace, make_member, login_as
):
    ws = make_workspace()
    make_member(ws, "boss", roles=("suite.admin",))
    bob = make_member(ws, "bob")
    boss_c, bob_c = new_client(), new_client()
    login_as(boss_c, "boss")
    login_as(bob_c, "bob")
    assert bob_c.get("/").status_code == 200
    resp = boss_c.form(
        f"/admin/users/{bob}", {"login": "bob", "display_name": "Bob", "role_ids": []}
    )
    assert resp.status_code == 303
    assert bob_c.get("/").status_code == 302


def test_failed_logins_are_rate_limited_per_account(client, make_workspace, make_member, app):
    ws = make_workspace()
    make_member(ws, "alice")
    limit = app.config["SUITE_LOGIN_MAX_PER_ACCOUNT"]
    for _ in range(limit):
        assert client.form("/login", {"login": "alice", "password": "bad"}).status_code == 422
    resp = client.form("/login", {"login": "alice", "password": PASSWORD})
    assert resp.status_code == 429
    assert "Try again in 15 minutes" in resp.get_data(as_text=True) or "15 分钟" in resp.get_data(
        as_text=True
    )
    assert client.get("/").status_code == 302  # the right password did not get through


def test_failed_logins_are_rate_limited_per_address(client, make_workspace, make_member, app):
    ws = make_workspace()
    make_member(ws, "carol")
    limit = app.config["SUITE_LOGIN_MAX_PER_IP"]
    for i in range(limit):  # many accounts, one address
        client.form("/login", {"login": f"guess{i}", "password": "bad"})
    assert client.form("/login", {"login": "carol", "password": PASSWORD}).status_code == 429
    other = app.test_client()
    other.__class__ = client.__class__
    resp = other.form(
        "/login", {"login": "carol", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert resp.status_code == 303


def test_next_redirect_is_same_site_only(client, make_workspace, make_member):
    ws = make_workspace()
    make_member(ws, "alice")
    for bad in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ]:
        resp = client.form(f"/login?next={bad}", {"login": "alice", "password": PASSWORD})
        assert resp.headers["Location"] == "/", bad
        client.form("/logout")
    resp = client.form("/login?next=/admin/users", {"login": "alice", "password": PASSWORD})
    assert resp.headers["Location"] == "/admin/users"


def test_login_page_sends_anonymous_users_back_after_login(client, make_workspace, make_member):
    ws = make_workspace()
    make_member(ws, "alice")
    resp = client.get("/admin/users")
    assert resp.status_code == 302
    assert "/login?next=/admin/users" in resp.headers["Location"]


def test_remember_me_sets_a_persistent_httponly_cookie(client, make_workspace, make_member):
    ws = make_workspace()
    make_member(ws, "alice")
    resp = client.form("/login", {"login": "alice", "password": PASSWORD, "remember": "y"})
    cookies = resp.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "Expires=" in remember[0]
    session_cookie = [c for c in cookies if c.startswith("shunliu_session=")]
    assert (
        session_cookie and "HttpOnly" in session_cookie[0] and "SameSite=Lax" in session_cookie[0]
    )


def test_passwords_are_stored_as_argon2id(ctx, make_workspace, make_member):
    ws = make_workspace()
    make_member(ws, "alice")
    user = db.session.scalar(sa.select(User).where(User.login == "alice"))
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_production_argon2_cost_is_at_least_owasp_minimum():
    from suite.config import DEFAULTS

    assert DEFAULTS["SUITE_ARGON2_TIME_COST"] >= 2
    assert DEFAULTS["SUITE_ARGON2_MEMORY_COST"] >= 19 * 1024


def test_htmx_request_with_expired_session_gets_hx_redirect(client):
    resp = client.get("/admin/users", headers={"HX-Request": "true"})
    assert resp.status_code == 401
    assert resp.headers["HX-Redirect"].startswith("/login?next=/admin/users")
