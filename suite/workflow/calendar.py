"""SLA durations and the workspace work calendar: when is a task due?

A template writes durations as short strings (`30m`, `24h`, `2d`, `2wd`, `8wh`); the engine turns
them into a `due_at` with `WorkCalendar.due()`. Pure code: no database, no clock.

Rules (decided here, tested in `tests/suite/test_calendar.py`):

* `m`, `h`, `d` are natural (calendar) time, as DingTalk and Feishu count SLAs: a plain
  `timedelta` on the instant, so `2d` is 48 elapsed hours even across a DST change.
* `wd` (working days) is "the same local clock time N working days later". A start outside
  working time (evening, lunch break, weekend, holiday) first moves to the next working period's
  start. Either way the result lies N full working days of working time after the start.
* `wh` (working hours) counts only time inside working periods on working days, measured as real
  elapsed time (a period on a DST day is as long as it really is). A due time that falls exactly
  on a period's end stays there (09:00 + 8wh is 18:00 the same day, not 09:00 the next).
* Working periods are half-open, `[start, end)`: 18:00 is already after hours.
* Holidays and adjusted working days (调休) are explicit dates: a holiday is never a working day;
  an adjusted working day (often a Saturday) always is, whatever `weekdays` says.
* Local times that do not exist (DST gap) move forward by the gap; ambiguous ones take the first.

Datetimes must be timezone-aware; results are in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_CALENDAR",
    "Duration",
    "DurationUnit",
    "WorkCalendar",
    "calendar_from_settings",
    "parse_duration",
]

DurationUnit = Literal["minutes", "hours", "days", "working_days", "working_hours"]

_SUFFIX: dict[str, DurationUnit] = {
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "wd": "working_days",
    "wh": "working_hours",
}
_SUFFIX_OF: dict[DurationUnit, str] = {unit: suffix for suffix, unit in _SUFFIX.items()}
_DURATION_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)")
_EXAMPLES = "like 30m, 24h, 2d, 2wd or 8wh"
# A sanity bound against typos (and endless loops), not a business rule: ten thousand of any unit.
MAX_AMOUNT = Decimal(10_000)
# A run of this many non-working days means the calendar is broken, not that a holiday is long.
_MAX_IDLE_DAYS = 366


@dataclass(frozen=True)
class Duration:
    """An SLA duration: an amount of one unit. `str()` gives the string `parse_duration` reads."""

    amount: Decimal
    unit: DurationUnit

    def __post_init__(self) -> None:
        if self.unit not in get_args(DurationUnit):
            raise ValueError(f"unknown duration unit {self.unit!r}")
        amount = self.amount
        if isinstance(amount, int) and not isinstance(amount, bool):
            amount = Decimal(amount)
            object.__setattr__(self, "amount", amount)
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise ValueError(f"duration amount must be a finite Decimal, not {amount!r}")
        if amount <= 0:
            raise ValueError(f"duration must be positive, not {self}")
        if amount > MAX_AMOUNT:
            raise ValueError(f"duration {self} is too long (at most {MAX_AMOUNT} of any unit)")
        if self.unit == "working_days" and amount != amount.to_integral_value():
            raise ValueError(f"working days must be a whole number, not {self}")

    def __str__(self) -> str:
        return f"{_plain(self.amount)}{_SUFFIX_OF.get(self.unit, '?')}"

    @property
    def is_calendar_time(self) -> bool:
        """True for `m`, `h`, `d`: a plain timedelta, whatever the calendar says."""
        return self.unit in ("minutes", "hours", "days")


def parse_duration(text: str | int) -> Duration:
    """Read `30m`, `24h`, `2d`, `2wd`, `8wh`, `1.5h`; a bare integer (`24` or 24) means hours.

    Raises `ValueError` naming the input when it is not one of those.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return Duration(Decimal(text), "hours")
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string {_EXAMPLES}, not {text!r}")
    match = _DURATION_RE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration: write a number and a unit {_EXAMPLES}")
    number, suffix = match.groups()
    if not suffix:
        if "." in number:
            raise ValueError(f"{text!r} has no unit: write e.g. {number}h")
        suffix = "h"
    if suffix not in _SUFFIX:
        raise ValueError(
            f"unknown unit {suffix!r} in {text!r}: use m (minutes), h (hours), d (days), "
            "wd (working days) or wh (working hours)"
        )
    try:
        return Duration(Decimal(number), _SUFFIX[suffix])
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def _plain(amount: Decimal) -> str:
    """`Decimal("1.50")` -> "1.5", `Decimal("1E+2")` -> "100"."""
    return format(amount.normalize(), "f")


def _span(amount: Decimal, seconds_per_unit: int) -> timedelta:
    """An exact timedelta (to the microsecond) for `amount` units of that many seconds."""
    return timedelta(microseconds=int((amount * seconds_per_unit * 1_000_000).to_integral_value()))


_DEFAULT_HOURS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 0), time(18, 0)),
)


@dataclass(frozen=True)
class WorkCalendar:
    """A workspace's working time: local working periods, weekdays, holidays and 调休 days.

    `hours` are the same every working day, in the calendar's `timezone`, each `(start, end)`
    with start < end (periods crossing midnight are not supported). `weekdays` uses
    `date.weekday()` numbers (Monday = 0). `workdays` are adjusted working days that override
    `weekdays`; a date may not be both a holiday and a workday.
    """

    timezone: str = "Asia/Shanghai"
    hours: tuple[tuple[time, time], ...] = _DEFAULT_HOURS
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", _zone(self.timezone))
        object.__setattr__(self, "hours", _periods(self.hours))
        object.__setattr__(self, "weekdays", _weekdays(self.weekdays))
        holidays = _dates(self.holidays, "holidays")
        workdays = _dates(self.workdays, "workdays")
        both = sorted(holidays & workdays)
        if both:
            raise ValueError(f"{both[0].isoformat()} is both a holiday and a workday")
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "workdays", workdays)

    def is_working_day(self, d: date) -> bool:
        """Holidays never work, 调休 workdays always do, other days follow `weekdays`."""
        if d in self.holidays:
            return False
        if d in self.workdays:
            return True
        return d.weekday() in self.weekdays

    def due(self, start: datetime, duration: Duration) -> datetime:
        """When a task started at `start` (aware) is due after `duration`, in UTC."""
        start = _aware(start)
        try:
            if duration.unit == "working_days":
                return self._add_working_days(start, int(duration.amount))
            if duration.unit == "working_hours":
                return self.add_working_hours(start, duration.amount)
            seconds = {"minutes": 60, "hours": 3600, "days": 86400}[duration.unit]
            return (start + _span(duration.amount, seconds)).astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{duration} after {start.isoformat()} is out of range") from None

    def add_working_hours(self, start: datetime, hours: Decimal | int) -> datetime:
        """`start` (aware) plus `hours` of time inside working periods, in UTC.

        A result exactly at a period's end stays there rather than jumping to the next start.
        """
        start = _aware(start).astimezone(UTC)
        hours = Decimal(hours) if isinstance(hours, int) else hours
        if not isinstance(hours, Decimal) or not hours.is_finite() or hours < 0:
            raise ValueError(f"working hours must be a non-negative Decimal, not {hours!r}")
        remaining = _span(hours, 3600)
        try:
            for begin, end in self._periods_from(start):
                begin = max(begin, start)
                if remaining <= end - begin:
                    return begin + remaining
                remaining -= end - begin
        except OverflowError:
            raise ValueError(
                f"{hours} working hours after {start.isoformat()} is out of range"
            ) from None
        raise AssertionError("unreachable: _periods_from never ends")  # pragma: no cover

    def _add_working_days(self, start: datetime, days: int) -> datetime:
        begin, _ = next(self._periods_from(start.astimezone(UTC)))
        anchor = max(begin, start).astimezone(self._tz)
        day = anchor.date()
        for _ in range(days):
            day = self._next_working_day(day + timedelta(days=1))
        return self._instant(day, anchor.time())

    def _periods_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods, as UTC (begin, end), that end after `start`, in order."""
        day = start.astimezone(self._tz).date()
        while True:
            day = self._next_working_day(day)
            for period_start, period_end in self.hours:
                end = self._instant(day, period_end)
                if end > start:
                    yield self._instant(day, period_start), end
            day += timedelta(days=1)

    def _next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first one after it."""
        for offset in range(_MAX_IDLE_DAYS):
            if self.is_working_day(day + timedelta(days=offset)):
                return day + timedelta(days=offset)
        raise ValueError(f"the calendar has no working day in the year from {day.isoformat()}")

    def _instant(self, day: date, clock: time) -> datetime:
        """A local date and clock time as a UTC instant (a DST gap moves it forward)."""
        return datetime.combine(day, clock, tzinfo=self._tz).astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, not {moment!r}")
    return moment


def _zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"timezone must be an IANA name like 'Asia/Shanghai', not {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def _fmt(clock: time) -> str:
    return clock.strftime("%H:%M:%S" if clock.second else "%H:%M")


def _periods(periods: Iterable[Any]) -> tuple[tuple[time, time], ...]:
    out: list[tuple[time, time]] = []
    for period in periods:
        if not (isinstance(period, tuple | list) and len(period) == 2):
            raise ValueError(f"a working period must be a (start, end) pair, not {period!r}")
        start, end = period
        if not all(isinstance(t, time) and t.tzinfo is None for t in period):
            raise ValueError(f"working period {period!r} must be two naive datetime.time values")
        if end <= start:
            raise ValueError(f"working period {_fmt(start)}-{_fmt(end)}: end is not after start")
        out.append((start, end))
    if not out:
        raise ValueError("a calendar needs at least one working period")
    out.sort()
    for (a_start, a_end), (b_start, b_end) in zip(out, out[1:], strict=False):
        if b_start < a_end:
            raise ValueError(
                f"working period {_fmt(b_start)}-{_fmt(b_end)} overlaps "
                f"{_fmt(a_start)}-{_fmt(a_end)}"
            )
    return tuple(out)


def _weekdays(days: Iterable[Any]) -> frozenset[int]:
    out = list(days)
    for day in out:
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise ValueError(f"weekday {day!r} is not 0 (Monday) .. 6 (Sunday)")
    if not out:
        raise ValueError("a calendar needs at least one working weekday")
    return frozenset(out)


def _dates(days: Iterable[Any], name: str) -> frozenset[date]:
    out = list(days)
    for day in out:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValueError(f"{name}: {day!r} is not a date")
    return frozenset(out)


_CLOCK_RE = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SETTINGS_KEYS = ("timezone", "hours", "weekdays", "holidays", "workdays")


def calendar_from_settings(settings: Mapping[str, Any]) -> WorkCalendar:
    """Build a calendar from plain (JSON/YAML) settings; missing keys take the defaults.

    `{"timezone": "Asia/Shanghai", "hours": [["09:00", "12:00"], ["13:00", "18:00"]],
    "weekdays": [0, 1, 2, 3, 4], "holidays": ["2026-10-01"], "workdays": ["2026-10-10"]}`.
    Raises `ValueError` naming the first bad entry.
    """
    unknown = sorted(set(settings) - set(_SETTINGS_KEYS))
    if unknown:
        raise ValueError(
            f"unknown calendar setting {unknown[0]!r}: use {', '.join(_SETTINGS_KEYS)}"
        )
    kwargs: dict[str, Any] = {}
    if "timezone" in settings:
        kwargs["timezone"] = settings["timezone"]
    if "hours" in settings:
        kwargs["hours"] = tuple(
            _setting_period(f"hours[{i}]", p) for i, p in enumerate(_items(settings, "hours"))
        )
    if "weekdays" in settings:
        kwargs["weekdays"] = frozenset(_items(settings, "weekdays"))
    for key in ("holidays", "workdays"):
        if key in settings:
            kwargs[key] = frozenset(
                _setting_date(f"{key}[{i}]", d) for i, d in enumerate(_items(settings, key))
            )
    return WorkCalendar(**kwargs)


def _items(settings: Mapping[str, Any], key: str) -> list[Any]:
    value = settings[key]
    if not isinstance(value, list | tuple):
        raise ValueError(f"calendar setting {key!r} must be a list, not {value!r}")
    return list(value)


def _setting_period(where: str, value: Any) -> tuple[time, time]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f'{where} must be a ["HH:MM", "HH:MM"] pair, not {value!r}')
    return (_setting_clock(where, value[0]), _setting_clock(where, value[1]))


def _setting_clock(where: str, value: Any) -> time:
    match = _CLOCK_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{where}: {value!r} is not a time of day (HH:MM, 00:00 to 23:59)")
    return time(int(match[1]), int(match[2]))


def _setting_date(where: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # YAML reads an unquoted 2026-10-01 as a date already
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")


DEFAULT_CALENDAR = WorkCalendar()
