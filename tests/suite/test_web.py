"""The HTMX conventions: fragment or page, error pages as page or fragment, headers."""

from __future__ import annotations

import pytest

from suite.web import safe_next


def test_same_url_returns_the_fragment_for_its_target_and_the_page_otherwise(admin_client):
    page = admin_client.get("/admin/users")
    assert page.status_code == 200
    assert "<html" in page.get_data(as_text=True)
    frag = admin_client.get(
        "/admin/users", headers={"HX-Request": "true", "HX-Target": "user-rows"}
    )
    html = frag.get_data(as_text=True)
    assert "<html" not in html
    assert html.lstrip().startswith('<tbody id="user-rows"')
    assert "HX-Request" in frag.headers["Vary"]
    other = admin_client.get("/admin/users", headers={"HX-Request": "true", "HX-Target": "main"})
    assert "<html" in other.get_data(as_text=True)  # a boosted navigation gets the page


def test_errors_are_full_pages_or_fragments(admin_client):
    page = admin_client.get("/admin/users/424242")
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)
    frag = admin_client.get("/admin/users/424242", headers={"HX-Request": "true"})
    html = frag.get_data(as_text=True)
    assert frag.status_code == 404 and "<html" not in html and 'id="error-404"' in html
    assert frag.headers["HX-Retarget"] == "#flash"


def test_forbidden_page_for_htmx_and_plain(client, make_workspace, make_member, login_as):
    ws = make_workspace()
    make_member(ws, "amy")
    login_as(client, "amy")
    assert client.get("/admin/roles").status_code == 403
    frag = client.get("/admin/roles", headers={"HX-Request": "true"})
    assert frag.status_code == 403 and 'id="error-403"' in frag.get_data(as_text=True)


def test_unhandled_error_is_a_500_page_without_details(tmp_path):
    from tests.conftest import make_app

    app = make_app(
        f"sqlite:///{tmp_path / 'e.sqlite3'}", str(tmp_path / "inst"), SUITE_RAISE_ERRORS=False
    )

    @app.get("/_boom_for_test")
    def boom():
        raise RuntimeError("secret detail")

    resp = app.test_client().get("/_boom_for_test")
    assert resp.status_code == 500
    html = resp.get_data(as_text=True)
    assert "secret detail" not in html and 'id="error-500"' in html


def test_security_headers(client):
    resp = client.get("/login")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_htmx_is_vendored_and_no_cdn_is_used(client):
    html = client.get("/login").get_data(as_text=True)
    assert "/static/vendor/htmx/htmx-2.0.11.min.js" in html
    assert "https://" not in html and "http://" not in html
    js = client.get("/static/vendor/htmx/htmx-2.0.11.min.js")
    assert js.status_code == 200 and b"htmx" in js.data
    js.close()


def test_safe_next():
    assert safe_next("/admin/users?x=1", "/") == "/admin/users?x=1"
    for bad in (None, "", "http://x", "//x", "/\\x", "x", "https:/x"):
        assert safe_next(bad, "/") == "/"


def _menu(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return html[html.index('<nav class="sidenav"') : html.index("</nav>")]


def test_menu_follows_a_changed_role_and_the_language(
    app, make_workspace, make_member, client, login_as
):
    """The side menu is built once per (permissions, locale, URL root): a role that gains or
    loses a permission shows on the next page, and so does a language switch."""
    import sqlalchemy as sa

    from suite.auth.models import Role
    from suite.db import db
    from suite.tenancy import use_workspace

    ws = make_workspace("acme")
    make_member(ws, "sam", roles=("suite.staff",))
    login_as(client, "sam")

    def staff_permissions(change) -> None:
        with app.app_context(), use_workspace(ws.id):
            role = db.session.scalars(sa.select(Role).where(Role.code == "suite.staff")).one()
            role.permissions = change(list(role.permissions))
            db.session.commit()

    assert 'href="/purchasing/orders"' not in _menu(client)
    staff_permissions(lambda perms: [*perms, "purchasing.order.read"])
    menu = _menu(client)
    assert 'href="/purchasing/orders"' in menu
    assert "采购订单" in menu
    assert client.form("/language", {"locale": "en"}).status_code == 303
    menu = _menu(client)
    assert "Purchase orders" in menu and "采购订单" not in menu
    staff_permissions(lambda perms: [p for p in perms if p != "purchasing.order.read"])
    assert 'href="/purchasing/orders"' not in _menu(client)


def test_url_pattern_builds_what_url_for_builds(app):
    from flask import url_for

    from suite.web import UrlPattern

    with app.test_request_context("/", base_url="http://example.test/erp"):
        order_url = UrlPattern("purchasing.order_detail", "purchase_order_id")
        for ident in (1, 42, 1_000_000):
            assert order_url(ident) == url_for("purchasing.order_detail", purchase_order_id=ident)
        assert order_url(7) == "/erp/purchasing/orders/7"
        with pytest.raises(ValueError, match="not in the URL path"):
            UrlPattern("purchasing.order_list", "before")
