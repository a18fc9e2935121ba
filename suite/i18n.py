"""Locale and time zone selection, and locale-aware formatting for templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
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


class Labels(Mapping[str, str]):
    """Lazy labels (`{"draft": _l("Draft"), ...}`) for one response: each translated once, when
    first asked for (a lazy string looks its translation up again every time it is printed; an
    order page shows one or two of a dozen statuses)."""

    def __init__(self, source: Mapping[str, object]) -> None:
        self._source = source
        self._done: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        done = self._done.get(key)
        if done is None:
            done = self._done[key] = str(self._source[key])
        return done

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)


def select_timezone() -> str:
    ws = g.get("workspace")
    return ws.timezone if ws is not None else current_app.config["BABEL_DEFAULT_TIMEZONE"]


# A list page formats two values per row. flask-babel's helpers look the locale, the time zone and
# the format names up again on every call (Flask context proxies, Locale.parse, pattern lookups):
# ~15 us per amount and ~27 us per timestamp here. The helpers below read the request's locale and
# time zone from flask-babel (so force_locale() and refresh() still apply) and reuse what Babel
# derives from the locale alone: the same text (tests/suite/test_i18n_formats.py compares them
# with flask-babel's) for ~3 us per amount and ~12 us per timestamp.
_NAMED = ("full", "long", "medium", "short")


class _Money:
    """Babel's NumberPattern.apply() for one (locale, currency), its fixed parts worked out once.

    Babel re-derives the symbols, the currency's digits and the pattern's prefix and suffix for
    every amount; here only the rounding and grouping remain per amount, done as Babel does them
    (`abs().normalize().quantize()` in the default decimal context, groups from the pattern).
    """

    def __init__(self, locale: Locale, currency: str) -> None:
        from babel import numbers

        pattern = locale.currency_formats["standard"]
        self.digits = numbers.get_currency_precision(currency)
        self.quantum = Decimal(10) ** -self.digits
        self.group = numbers.get_group_symbol(locale)
        self.decimal = numbers.get_decimal_symbol(locale)
        self.sizes = pattern.grouping
        one = "1" + (self.decimal + "0" * self.digits if self.digits else "")
        self.wrap = []  # (head, tail) around the number: positive, negative
        for probe in (Decimal(1), Decimal(-1)):
            text = pattern.apply(probe, locale, currency=currency)
            head, found, tail = text.partition(one)
            self.wrap.append((head, tail) if found and one not in tail else None)
        self.simple = (
            pattern.scale == 0
            and not pattern.exp_prec
            and "@" not in pattern.pattern
            and "¤¤¤" not in "".join(pattern.prefix + pattern.suffix)
            and pattern.int_prec[0] <= 1
            and None not in self.wrap
        )

    def __call__(self, value: Decimal) -> str:
        head, tail = self.wrap[int(value.is_signed())]
        digits, _, frac = f"{abs(value).normalize().quantize(self.quantum):f}".partition(".")
        size, rest = self.sizes
        groups = ""
        while len(digits) > size:
            groups = self.group + digits[-size:] + groups
            digits = digits[:-size]
            size = rest
        number = digits + groups + (self.decimal + frac if self.digits else "")
        return f"{head}{number}{tail}"


def _selected(zone: bool) -> tuple[Locale | None, Any]:
    """The request's Babel locale (and time zone): what flask-babel has selected and keeps in
    `g._flask_babel` (one context look-up instead of three per value), else its own helpers.
    Outside a request: None, and the callers use flask-babel's functions as they are."""
    if not has_request_context():
        return None, None
    ctx = g.get("_flask_babel")
    locale = getattr(ctx, "babel_locale", None) or get_locale()
    return locale, (getattr(ctx, "babel_tzinfo", None) or get_timezone()) if zone else None


@lru_cache(maxsize=64)
def _money_format(locale: Locale, currency: str) -> _Money:
    return _Money(locale, currency)


class _Fields:
    """The fields of a date/time pattern (`%(yyyy)s`, ...) for one value: the numeric ones as
    babel.dates.DateTimeFormat writes them, everything else (names, periods, zones) from it."""

    __slots__ = ("_babel", "locale", "reference_date", "value")

    def __init__(self, value: Any, locale: Locale, reference_date: dt.date | None = None) -> None:
        self.value, self.locale, self.reference_date = value, locale, reference_date
        self._babel: Any = None

    def __getitem__(self, name: str) -> str:
        char, num, value = name[0], len(name), self.value
        if char == "y":
            year = f"{value.year:0{num}d}"
            return year[-2:] if num == 2 else year
        if char == "M" and num <= 2:
            return f"{value.month:0{num}d}"
        if char == "d":
            return f"{value.day:0{num}d}"
        if char == "H":
            return f"{value.hour:0{num}d}"
        if char == "h":
            return f"{value.hour % 12 or 12:0{num}d}"
        if char == "m":
            return f"{value.minute:0{num}d}"
        if char == "s":
            return f"{value.second:0{num}d}"
        if self._babel is None:
            self._babel = dates.DateTimeFormat(value, self.locale, self.reference_date)
        return self._babel[name]


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
    locale, _zone = _selected(zone=False)
    fmt = _money_format(locale, currency) if locale is not None else None
    if fmt is None or not fmt.simple or not Decimal(value).is_finite():
        return format_currency(Decimal(value), currency)
    return fmt(Decimal(value))


def number(value: Decimal | int | None) -> str:
    return "" if value is None else format_decimal(value)


def datetime_local(value: dt.datetime | None, fmt: str = "medium") -> str:
    """`value` (naive = UTC) in the request's time zone, as Babel's named format `fmt`."""
    if value is None:
        return ""
    locale, tz = _selected(zone=True)
    if locale is None or tz is None or fmt not in _NAMED:  # (Babel's default date_formats)
        return format_datetime(value, fmt)
    local = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(tz)
    if hasattr(tz, "normalize"):  # pytz
        local = tz.normalize(local)
    glue, time_pattern, date_pattern = _datetime_patterns(locale, fmt)
    day = local.date()
    return glue.replace("{0}", time_pattern.format % _Fields(local.timetz(), locale, day)).replace(
        "{1}", date_pattern.format % _Fields(day, locale)
    )
