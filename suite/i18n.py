"""Locale and time zone selection, and locale-aware formatting for templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from flask import current_app, g, has_request_context, request, session
from flask_babel import format_currency, format_datetime, format_decimal
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


def select_timezone() -> str:
    ws = g.get("workspace")
    return ws.timezone if ws is not None else current_app.config["BABEL_DEFAULT_TIMEZONE"]


def money(value: Decimal | int | None, currency: str = "CNY") -> str:
    if value is None:
        return ""
    return format_currency(Decimal(value), currency)


def number(value: Decimal | int | None) -> str:
    return "" if value is None else format_decimal(value)


def datetime_local(value: dt.datetime | None, fmt: str = "medium") -> str:
    return "" if value is None else format_datetime(value, fmt)
