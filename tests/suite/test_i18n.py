"""Every UI string in zh-CN and en: the catalog is complete, zh_CN is the default, the language
switch sticks to the user, money and times follow the locale and the workspace time zone."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import g, render_template_string
from flask_babel import force_locale

from suite import i18n
from suite.audit.models import AuditEvent
from suite.auth.models import User
from suite.db import db
from suite.tenancy import system, use_workspace

ROOT = Path(__file__).resolve().parents[2]
# Babel spells zh_CN as zh_Hans_CN and flask-babel looks for that folder (or `zh`), never `zh_CN`.
PO = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# The same keywords as `make extract-messages` (-k _l -k lazy_gettext on top of Babel's own).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
HOW_TO_FIX = (
    "run `make extract-messages`, translate them in translations/zh_Hans_CN/LC_MESSAGES/"
    "messages.po, then `make translations`"
)


def source_messages() -> dict[str, str]:
    """msgid -> first place it occurs, extracted like `pybabel extract -F babel.cfg`."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def zh_catalog():
    with open(PO, "rb") as f:
        return read_po(f, locale="zh_CN")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def translations(msg) -> list[str]:
    return list(msg.string) if isinstance(msg.string, tuple | list) else [msg.string]


# -- the catalog --------------------------------------------------------------------------------


def test_each_locale_has_a_catalog_where_flask_babel_looks(app):
    folders = {p.name for p in (ROOT / "translations").iterdir() if p.is_dir()}
    for code in app.config["SUITE_LOCALES"]:
        if code == "en":
            continue  # the source language
        assert str(Locale.parse(code)) in folders, (
            f"no catalog for {code}: flask-babel loads translations/{Locale.parse(code)}/ "
            f"(Babel's spelling of {code}); a folder named {code} is silently ignored"
        )


def test_every_source_message_has_a_zh_cn_translation():
    source = source_messages()
    assert len(source) > 50, "extraction found almost nothing: is babel.cfg still right?"
    catalog = zh_catalog()
    missing = []
    for msgid, where in sorted(source.items()):
        msg = catalog.get(msgid)
        if msg is None or msg.fuzzy or not all(s.strip() for s in translations(msg)):
            missing.append(f"  {msgid!r}  ({where})")
    assert not missing, (
        f"{len(missing)} UI string(s) without a zh_CN translation; {HOW_TO_FIX}:\n"
        + "\n".join(missing)
    )


def test_translations_keep_the_placeholders():
    wrong = []
    for msg in zh_catalog():
        if not msg.id or not msg.string:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        for text in translations(msg):
            if placeholders(text) != placeholders(ids[0]):
                wrong.append(f"  {ids[0]!r} -> {text!r}")
    assert not wrong, "placeholders differ between msgid and zh_CN msgstr:\n" + "\n".join(wrong)


def test_compiled_catalog_matches_the_po_file():
    """The .mo is git-ignored: a stale one makes pages fall back to English without a word."""
    assert MO.exists(), f"{MO} is missing: run `make translations`"
    with open(MO, "rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    stale = [m.id for m in zh_catalog() if m.id and m.string and compiled.get(m.id) != m.string]
    assert not stale, f"{MO.name} is older than the .po file, run `make translations`: {stale[:10]}"


# -- language selection ---------------------------------------------------------------------------


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang=...>"
    return match.group(1)


def assert_chinese_login(html: str) -> None:
    assert lang_of(html) == "zh-CN"
    assert "<title>登录 · 顺流</title>" in html
    assert "记住我" in html
    assert "账号或邮箱" in html
    assert "Log in" not in html
    assert "Remember me" not in html


def assert_english_login(html: str) -> None:
    assert lang_of(html) == "en"
    assert "<title>Log in · Shunliu</title>" in html
    assert "Remember me" in html
    assert "记住我" not in html


def user_locale(app, login: str) -> str | None:
    with app.app_context(), system():
        return db.session.scalar(sa.select(User.locale).where(User.login == login))


def test_default_language_is_zh_cn(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    assert_chinese_login(resp.get_data(as_text=True))


def test_browser_asking_for_english_gets_english_until_a_choice_is_made(client):
    assert_english_login(
        client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    )
    assert_chinese_login(
        client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    )


def test_anonymous_language_switch_lasts_for_the_session(client):
    resp = client.form("/language", {"locale": "en", "next": "/login"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/login"
    assert_english_login(client.get("/login").get_data(as_text=True))
    client.form("/language", {"locale": "zh_CN"})
    assert_chinese_login(client.get("/login").get_data(as_text=True))


def test_language_switch_over_htmx_refreshes_the_page(client):
    resp = client.htmx("POST", "/language", data={"locale": "en"})
    assert resp.status_code == 204
    assert resp.headers["HX-Refresh"] == "true"
    assert_english_login(client.get("/login").get_data(as_text=True))


def test_members_language_is_stored_on_the_user_and_survives_a_new_login(
    app, client, make_workspace, make_member, login_as
):
    ws = make_workspace()
    make_member(ws, "alice")
    login_as(client, "alice")
    home = client.get("/").get_data(as_text=True)
    assert lang_of(home) == "zh-CN"
    assert "退出登录" in home
    assert user_locale(app, "alice") is None

    assert client.form("/language", {"locale": "en", "next": "/"}).status_code == 303
    assert user_locale(app, "alice") == "en"
    home = client.get("/").get_data(as_text=True)
    assert lang_of(home) == "en"
    assert "Log out" in home
    assert "退出登录" not in home

    client.form("/logout")
    login_as(client, "alice")
    home = client.get("/").get_data(as_text=True)
    assert lang_of(home) == "en"
    assert "Hello, Alice" in home

    client.form("/language", {"locale": "zh_CN", "next": "/"})
    assert user_locale(app, "alice") == "zh_CN"
    home = client.get("/").get_data(as_text=True)
    assert lang_of(home) == "zh-CN"
    assert "Alice，您好" in home


def test_unknown_language_is_422_and_changes_nothing(
    app, client, make_workspace, make_member, login_as
):
    resp = client.form("/language", {"locale": "fr"})
    assert resp.status_code == 422
    assert "不支持该语言" in resp.get_data(as_text=True)
    with client.session_transaction() as sess:
        assert "locale" not in sess
    assert_chinese_login(client.get("/login").get_data(as_text=True))

    ws = make_workspace()
    make_member(ws, "alice")
    login_as(client, "alice")
    client.form("/language", {"locale": "en"})
    for bad in ("fr", "zh_TW", "", "../en"):
        assert client.form("/language", {"locale": bad}).status_code == 422
    assert user_locale(app, "alice") == "en"
    assert lang_of(client.get("/").get_data(as_text=True)) == "en"


# -- money, numbers and times ---------------------------------------------------------------------

NEW_YEAR_UTC = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def in_workspace(app, make_workspace):
    """Enter a request context bound to a workspace in `timezone`, as `bind_workspace` does."""
    pushed = []

    def enter(timezone: str = "Asia/Shanghai") -> None:
        ws = make_workspace(f"tz{len(pushed)}", timezone=timezone)
        ctx = app.test_request_context("/")
        ctx.push()
        pushed.append(ctx)
        # This also makes `g` non-empty: flask_babel.force_locale does nothing while it is empty.
        g.workspace = ws

    yield enter
    for ctx in reversed(pushed):
        ctx.pop()


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("zh_CN", "¥12,345.00"), ("en", "CN¥12,345.00")],
)
def test_money_follows_the_locale(in_workspace, locale, expected):
    in_workspace()
    with force_locale(locale):
        assert i18n.money(Decimal("12345")) == expected
        assert render_template_string("{{ v|money }}", v=Decimal("12345")) == expected
        assert i18n.money(None) == ""


def test_numbers_follow_the_locale(in_workspace):
    in_workspace()
    with force_locale("zh_CN"):
        assert i18n.number(Decimal("1234567.5")) == "1,234,567.5"
    with force_locale("en"):
        assert i18n.number(Decimal("1234567.5")) == "1,234,567.5"
        assert i18n.number(None) == ""


@pytest.mark.parametrize(
    ("locale", "fmt", "expected"),
    [
        ("zh_CN", "short", "2026/1/1 08:00"),
        ("zh_CN", "medium", "2026年1月1日 08:00:00"),
        ("en", "short", "1/1/26, 8:00\u202fAM"),
        ("en", "medium", "Jan 1, 2026, 8:00:00\u202fAM"),
    ],
)
def test_times_show_in_the_workspace_time_zone(in_workspace, locale, fmt, expected):
    in_workspace("Asia/Shanghai")
    with force_locale(locale):
        assert i18n.datetime_local(NEW_YEAR_UTC, fmt) == expected
        assert render_template_string("{{ t|datetime(f) }}", t=NEW_YEAR_UTC, f=fmt) == expected


def test_time_zone_comes_from_the_workspace_not_the_server_default(in_workspace):
    in_workspace("America/New_York")
    with force_locale("zh_CN"):
        assert i18n.datetime_local(NEW_YEAR_UTC, "short") == "2025/12/31 19:00"
        assert i18n.datetime_local(None) == ""


def test_audit_page_shows_event_times_in_the_workspace_time_zone(
    app, client, make_workspace, make_member, login_as
):
    ws = make_workspace("nyc", timezone="America/New_York")
    make_member(ws, "boss", roles=("suite.admin",))
    login_as(client, "boss")
    with app.app_context(), use_workspace(ws.id):
        occurred = db.session.scalars(sa.select(AuditEvent.occurred_at)).first()
    assert occurred is not None
    html = client.get("/admin/audit").get_data(as_text=True)
    assert lang_of(html) == "zh-CN"
    assert "审计日志" in html
    expected = babel_format_datetime(occurred, "short", tzinfo="America/New_York", locale="zh_CN")
    assert f">{expected}</time>" in html
