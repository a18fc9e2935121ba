"""Locale and time zone selection, and locale-aware formatting for templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, dates
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_currency, format_datetime, format_decimal, get_locale, get_timezone
from flask_login import current_user


def supported() -> list[str]:
    return current_app.config["SUITE_LOCALES"]


def select_locale() -> str:
    """User setting -> session (anonymous switch) -> workspace default -> browser -> zh_CN."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in supported():
        return current_user.locale
    if session.get("locale") in supported():
        return session["locale"]
    ws = g.get("workspace")
    if ws is not None and ws.locale in supported():
        return ws.locale
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if best == "en":
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def localized(label: object, locale: str) -> str:
    """A template label `{en: ..., zh_CN: ...}` in `locale`, else English; a plain label as is."""
    if isinstance(label, Mapping):
        return str(label.get(locale) or label.get("en") or "")
    return str(label) if label else ""


def labels(mapping: Mapping[str, object]) -> dict[str, str]:
    """Lazy labels (`{"draft": _l("Draft"), ...}`) translated once for this response: a lazy
    string looks its translation up again every time a template prints it."""
    return {key: str(label) for key, label in mapping.items()}


def select_timezone() -> str:
    ws = g.get("workspace")
    return ws.timezone if ws is not None else current_app.config["BABEL_DEFAULT_TIMEZONE"]


# A list page formats two values per row. flask-babel's helpers look the locale, the time zone and
# the format names up again on every call (Flask context proxies, Locale.parse, pattern lookups):
# about 45 us per value. The helpers below read the request's locale and time zone from
# flask-babel (so force_locale() and refresh() still apply) and reuse what Babel derives from the
# locale alone: the same text at about a third of the cost (tests/suite/test_i18n_formats.py).
_NAMED = ("full", "long", "medium", "short")


@lru_cache(maxsize=64)
def _currency_pattern(locale: Locale) -> Any:
    return locale.currency_formats["standard"]


@lru_cache(maxsize=64)
def _datetime_patterns(locale: Locale, fmt: str) -> tuple[str, Any, Any]:
    """What babel.dates.format_datetime derives for a named format: the glue, time and date."""
    return (
        dates.get_datetime_format(fmt, locale=locale).replace("'", ""),
        dates.parse_pattern(dates.get_time_format(fmt, locale=locale)),
        dates.parse_pattern(dates.get_date_format(fmt, locale=locale)),
    )


def money(value: Decimal | int | None, currency: str = "CNY") -> str:
    if value is None:
        return ""
    locale = get_locale()
    if locale is None:  # no request: Babel's default locale
        return format_currency(Decimal(value), currency)
    return _currency_pattern(locale).apply(
        Decimal(value), locale, currency=currency, currency_digits=True, decimal_quantization=True
    )


def number(value: Decimal | int | None) -> str:
    return "" if value is None else format_decimal(value)


def datetime_local(value: dt.datetime | None, fmt: str = "medium") -> str:
    """`value` (naive = UTC) in the request's time zone, as Babel's named format `fmt`."""
    if value is None:
        return ""
    locale = get_locale()
    if locale is None or fmt not in _NAMED:  # (the suite keeps Babel's default date_formats)
        return format_datetime(value, fmt)
    tz = get_timezone()
    local = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(tz)
    if hasattr(tz, "normalize"):  # pytz
        local = tz.normalize(local)
    glue, time_pattern, date_pattern = _datetime_patterns(locale, fmt)
    return glue.replace(
        "{0}", time_pattern.apply(local.timetz(), locale, reference_date=local.date())
    ).replace("{1}", date_pattern.apply(local.date(), locale))
