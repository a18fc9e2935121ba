"""suite.i18n's money and datetime filters give exactly flask-babel's text (they skip its per-call
look-ups), in both locales, several time zones, every named format and under force_locale()."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from babel import Locale
from flask import Flask, g
from flask_babel import force_locale, format_currency, format_datetime
from pytz import timezone as tz

from suite import i18n

AMOUNTS = [
    *(Decimal(v) for v in ("0", "-0", "0.5", "1", "12.3", "999.99", "1000", "-42.10", "1E+3")),
    *(Decimal(v) for v in ("0.125", "0.135", "2.5", "3.5", "-0.005", "123456789012.345")),
    *(Decimal(v) for v in ("99999999999999.99", "1234567.891", "0.0000001", "-1234.5")),
    7,
    -1_000_000,
]


def stored(*args: int) -> dt.datetime:
    """A timestamp as the database returns it: naive UTC."""
    return dt.datetime(*args, tzinfo=dt.UTC).replace(tzinfo=None)


# Around midnight, month and year ends, and both DST switches of a zone that has them.
INSTANTS = [
    stored(2026, 1, 1, 0, 0),
    stored(2025, 12, 31, 16, 30, 5),
    stored(2026, 3, 8, 6, 59, 59),
    stored(2026, 3, 29, 1, 30),
    stored(2026, 10, 25, 0, 45),
    dt.datetime(2026, 7, 4, 12, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 7, 4, 23, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
]


def _request(app: Flask, locale: str, timezone: str) -> Any:
    """A request whose locale and time zone flask-babel has already selected."""
    ctx = app.test_request_context("/")
    ctx.push()
    g._flask_babel = SimpleNamespace(babel_locale=Locale.parse(locale), babel_tzinfo=tz(timezone))
    return ctx


@pytest.mark.parametrize("locale", ["zh_CN", "en", "de_DE", "fr_FR", "hi_IN", "ar_EG"])
@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
def test_datetime_and_money_match_flask_babel(app: Flask, locale: str, timezone: str) -> None:
    ctx = _request(app, locale, timezone)
    try:
        for fmt in ("short", "medium", "long", "full", "yyyy-MM-dd HH:mm"):
            for value in INSTANTS:
                assert i18n.datetime_local(value, fmt) == format_datetime(value, fmt)
        for value in AMOUNTS:
            for currency in ("CNY", "USD", "JPY", "EUR", "BHD"):
                assert i18n.money(value, currency) == format_currency(value, currency)
        assert i18n.money(None) == i18n.datetime_local(None) == ""
    finally:
        ctx.pop()


def test_formats_follow_force_locale(app: Flask) -> None:
    ctx = _request(app, "zh_CN", "Asia/Shanghai")
    try:
        when = stored(2026, 5, 1, 8, 0)
        chinese = i18n.money(Decimal("12345.6")), i18n.datetime_local(when, "short")
        with force_locale("en"):
            english = i18n.money(Decimal("12345.6")), i18n.datetime_local(when, "short")
            assert english[0] == format_currency(Decimal("12345.6"), "CNY")
            assert english[1] == format_datetime(when, "short")
        assert chinese == ("¥12,345.60", "2026/5/1 16:00")
        assert english[0] == "CN¥12,345.60"
    finally:
        ctx.pop()


def test_labels_translate_each_label_once_in_the_requests_language(app: Flask) -> None:
    from flask_babel import lazy_gettext

    source = {"draft": lazy_gettext("Draft"), "closed": lazy_gettext("Closed")}
    ctx = _request(app, "zh_CN", "Asia/Shanghai")
    try:
        shown = i18n.Labels(source)
        assert shown["draft"] == "草稿"
        assert shown["draft"] is shown["draft"]
        assert dict(shown.items()) == {"draft": "草稿", "closed": str(source["closed"])}
        with force_locale("en"):
            assert i18n.Labels(source)["draft"] == "Draft"
    finally:
        ctx.pop()


def test_template_strings_follow_the_locale_and_force_locale(app: Flask) -> None:
    from flask import render_template_string

    page = '{{ _("Draft") }}|{{ ngettext("%(num)d item", "%(num)d items", 2) }}'
    ctx = _request(app, "zh_CN", "Asia/Shanghai")
    try:
        chinese = render_template_string(page)
        assert chinese.startswith("草稿|")
        with force_locale("en"):
            assert render_template_string(page) == "Draft|2 items"
        assert render_template_string(page) == chinese
    finally:
        ctx.pop()
    ctx = _request(app, "en", "Asia/Shanghai")
    try:
        assert render_template_string(page) == "Draft|2 items"
    finally:
        ctx.pop()
