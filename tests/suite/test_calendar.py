"""SLA durations and the work calendar: when a task is due.

Times in the tests are written on the local wall clock (`local("2026-10-09 15:00")`, Shanghai
unless a zone is named) and compared as UTC instants. The holiday data is made up but shaped like
China's real notices: Spring Festival 2026-02-15..23 with 调休 Saturdays 02-14 and 02-28, National
Day 2026-10-01..07 with 调休 Sunday 09-27 and Saturday 10-10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from suite.workflow.calendar import (
    DEFAULT_CALENDAR,
    Duration,
    WorkCalendar,
    calendar_from_settings,
    parse_duration,
)


def local(text: str, tz: str = "Asia/Shanghai") -> datetime:
    """A wall-clock time in `tz` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def days(first: str, last: str) -> frozenset[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return frozenset(start + timedelta(n) for n in range((end - start).days + 1))


CHINA_2026 = WorkCalendar(
    holidays=days("2026-02-15", "2026-02-23") | days("2026-10-01", "2026-10-07"),
    workdays=frozenset(
        {date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 27), date(2026, 10, 10)}
    ),
)
BERLIN = WorkCalendar(timezone="Europe/Berlin")


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("30m", "30", "minutes"),
        ("24h", "24", "hours"),
        ("1.5h", "1.5", "hours"),
        ("2d", "2", "days"),
        ("2wd", "2", "working_days"),
        ("8wh", "8", "working_hours"),
        ("24", "24", "hours"),
        (24, "24", "hours"),
        (" 2 WD ", "2", "working_days"),
    ],
)
def test_duration_is_a_number_and_a_unit_and_a_bare_integer_means_hours(text, amount, unit):
    assert parse_duration(text) == Duration(Decimal(amount), unit)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("30m", "30m"),
        ("100m", "100m"),
        ("1.5h", "1.5h"),
        ("1.50h", "1.5h"),
        ("24", "24h"),
        ("2d", "2d"),
        ("2wd", "2wd"),
        ("0.25wh", "0.25wh"),
    ],
)
def test_str_of_a_duration_is_canonical_and_parses_back_to_the_same_duration(text, canonical):
    duration = parse_duration(text)
    assert str(duration) == canonical
    assert parse_duration(str(duration)) == duration


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a duration"),
        ("h", "not a duration"),
        ("-1h", "not a duration"),
        ("1,5h", "not a duration"),
        ("１h", "not a duration"),
        ("3x", "unknown unit 'x'"),
        ("2 days", "unknown unit 'days'"),
        ("1.5", "has no unit"),
        ("0h", "must be positive"),
        ("1.5wd", "working days must be a whole number"),
        ("20000h", "too long"),
        (None, "must be a string"),
        (True, "must be a string"),
    ],
)
def test_malformed_durations_are_refused_with_a_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_a_duration_built_by_hand_is_checked_too():
    with pytest.raises(ValueError, match="unknown duration unit 'weeks'"):
        Duration(Decimal(1), "weeks")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite Decimal"):
        Duration(1.5, "hours")  # type: ignore[arg-type]
    assert Duration(2, "days") == Duration(Decimal(2), "days")  # type: ignore[arg-type]


# --- calendar time: m, h, d ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        ("2026-06-05 17:00", "30m", "2026-06-05 17:30"),
        ("2026-06-05 17:00", "24h", "2026-06-06 17:00"),
        ("2026-06-05 17:00", "1.5h", "2026-06-05 18:30"),
        ("2026-06-05 17:00", "2d", "2026-06-07 17:00"),
        ("2026-09-30 10:00", "1d", "2026-10-01 10:00"),
    ],
)
def test_minutes_hours_and_days_are_natural_time_through_nights_weekends_and_holidays(
    start, duration, expected
):
    assert CHINA_2026.due(local(start), parse_duration(duration)) == local(expected)


def test_calendar_days_are_elapsed_time_so_the_local_clock_shifts_across_dst():
    # Saturday 10:00 CET + 1d = Sunday 11:00 CEST: 24 real hours, not "same clock time".
    start = local("2026-03-28 10:00", "Europe/Berlin")
    assert start == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    assert BERLIN.due(start, parse_duration("1d")) == datetime(2026, 3, 29, 9, 0, tzinfo=UTC)


def test_due_takes_any_aware_datetime_and_answers_in_utc():
    start = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    due = DEFAULT_CALENDAR.due(start, parse_duration("1h"))
    assert due == datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        DEFAULT_CALENDAR.due(datetime(2026, 6, 1, 10, 0), parse_duration("2wd"))  # noqa: DTZ001


# --- working days: wd ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-06-01", True),  # Monday
        ("2026-06-06", False),  # Saturday
        ("2026-10-01", False),  # National Day, a Thursday
        ("2026-10-10", True),  # 调休 Saturday
        ("2026-09-27", True),  # 调休 Sunday
        ("2026-02-23", False),  # last Spring Festival day, a Monday
    ],
)
def test_holidays_never_work_and_adjusted_workdays_always_do(day, working):
    assert CHINA_2026.is_working_day(date.fromisoformat(day)) is working


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        ("2026-06-01 10:00", "2wd", "2026-06-03 10:00"),
        ("2026-06-05 10:30", "1wd", "2026-06-08 10:30"),
        ("2026-06-01 10:00", "5wd", "2026-06-08 10:00"),
        ("2026-06-01 17:59", "1wd", "2026-06-02 17:59"),
    ],
)
def test_working_days_land_on_the_same_local_clock_time_skipping_weekends(
    start, duration, expected
):
    assert DEFAULT_CALENDAR.due(local(start), parse_duration(duration)) == local(expected)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # National Day: Wednesday before the break -> the Thursday after it.
        ("2026-09-30 10:00", "1wd", "2026-10-08 10:00"),
        # The 调休 Saturday after the break is a working day ...
        ("2026-10-09 15:00", "1wd", "2026-10-10 15:00"),
        # ... and so is the 调休 Sunday before it.
        ("2026-09-25 15:00", "1wd", "2026-09-27 15:00"),
        # Spring Festival: the 调休 Saturday, then nine days off.
        ("2026-02-13 11:00", "1wd", "2026-02-14 11:00"),
        ("2026-02-13 11:00", "2wd", "2026-02-24 11:00"),
        # Starting on a 调休 Saturday counts from there.
        ("2026-10-10 10:00", "1wd", "2026-10-12 10:00"),
    ],
)
def test_working_days_skip_holidays_and_count_adjusted_workdays(start, duration, expected):
    assert CHINA_2026.due(local(start), parse_duration(duration)) == local(expected)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-06-01 19:00", "2026-06-03 09:00"),  # evening: counting starts Tuesday 09:00
        ("2026-06-01 18:00", "2026-06-03 09:00"),  # closing time is already after hours
        ("2026-06-01 07:30", "2026-06-02 09:00"),  # before opening: counting starts 09:00
        ("2026-06-03 12:30", "2026-06-04 13:00"),  # lunch break: counting starts 13:00
        ("2026-06-06 10:00", "2026-06-09 09:00"),  # Saturday: counting starts Monday 09:00
        ("2026-10-01 10:00", "2026-10-09 09:00"),  # holiday: counting starts on 10-08
    ],
)
def test_working_days_from_outside_working_time_count_from_the_next_period_start(start, expected):
    assert CHINA_2026.due(local(start), parse_duration("1wd")) == local(expected)


def test_working_days_keep_the_local_clock_time_across_dst():
    start = local("2026-03-27 10:00", "Europe/Berlin")  # Friday, CET (+01:00)
    assert start == datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
    due = BERLIN.due(start, parse_duration("1wd"))
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 10:00 CEST (+02:00)


# --- working hours: wh -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        ("2026-06-01 09:00", "2", "2026-06-01 11:00"),  # inside the morning
        ("2026-06-01 10:00", "1.5", "2026-06-01 11:30"),  # fractions
        ("2026-06-01 09:00", "3", "2026-06-01 12:00"),  # ends at lunch, does not jump to 13:00
        ("2026-06-01 11:00", "2", "2026-06-01 14:00"),  # across the lunch break
        ("2026-06-01 09:00", "8", "2026-06-01 18:00"),  # a full day ends at closing time
        ("2026-06-01 17:00", "2", "2026-06-02 10:00"),  # overnight
        ("2026-06-05 17:00", "2", "2026-06-08 10:00"),  # over the weekend
        ("2026-06-01 09:00", "40", "2026-06-05 18:00"),  # a working week
        ("2026-06-01 07:00", "1", "2026-06-01 10:00"),  # before opening
        ("2026-06-01 12:30", "1", "2026-06-01 14:00"),  # during lunch
        ("2026-06-01 20:00", "1", "2026-06-02 10:00"),  # in the evening
        ("2026-06-06 10:00", "1", "2026-06-08 10:00"),  # on Saturday
        ("2026-06-06 10:00", "0", "2026-06-08 09:00"),  # zero: the next working moment
    ],
)
def test_working_hours_count_only_time_inside_working_periods(start, hours, expected):
    assert DEFAULT_CALENDAR.add_working_hours(local(start), Decimal(hours)) == local(expected)


def test_a_wh_duration_is_due_after_that_many_working_hours():
    # Friday 15:00-18:00 is 3h, Monday 09:00-12:00 another 3h, then 13:00-15:00.
    start = local("2026-06-05 15:00")
    assert DEFAULT_CALENDAR.due(start, parse_duration("8wh")) == local("2026-06-08 15:00")
    assert DEFAULT_CALENDAR.add_working_hours(start, 8) == local("2026-06-08 15:00")


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        ("2026-10-09 17:00", "2", "2026-10-10 10:00"),  # into the 调休 Saturday
        ("2026-09-30 17:00", "2", "2026-10-08 10:00"),  # over National Day
        ("2026-02-14 17:00", "2", "2026-02-24 10:00"),  # over Spring Festival
    ],
)
def test_working_hours_skip_holidays_and_use_adjusted_workdays(start, hours, expected):
    assert CHINA_2026.add_working_hours(local(start), Decimal(hours)) == local(expected)


def test_working_hours_over_the_dst_weekend_follow_the_local_working_day():
    start = local("2026-03-27 17:00", "Europe/Berlin")  # Friday 16:00 UTC
    due = BERLIN.add_working_hours(start, Decimal(2))
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 10:00 CEST


def test_a_working_period_on_a_dst_day_is_as_long_as_it_really_is():
    night = WorkCalendar(
        timezone="Europe/Berlin", hours=((time(1), time(4)),), weekdays=frozenset(range(7))
    )
    # Spring forward: 01:00 CET .. 04:00 CEST is two real hours.
    spring = local("2026-03-29 01:00", "Europe/Berlin")
    assert night.add_working_hours(spring, Decimal(2)) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    assert night.add_working_hours(spring, Decimal(3)) == datetime(2026, 3, 30, 0, 0, tzinfo=UTC)
    # Fall back: 01:00 CEST .. 04:00 CET is four real hours.
    autumn = local("2026-10-25 01:00", "Europe/Berlin")
    assert autumn == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert night.add_working_hours(autumn, Decimal(4)) == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)


def test_negative_working_hours_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        DEFAULT_CALENDAR.add_working_hours(local("2026-06-01 09:00"), Decimal(-1))


def test_a_calendar_without_a_working_day_in_a_year_says_so():
    closed = WorkCalendar(holidays=days("2026-01-01", "2027-12-31"))
    with pytest.raises(ValueError, match="no working day"):
        closed.due(local("2026-06-01 10:00"), parse_duration("1wd"))


# --- settings --------------------------------------------------------------------------------


def test_the_default_calendar_is_shanghai_monday_to_friday_nine_to_six_with_lunch():
    shanghai_office = WorkCalendar(
        timezone="Asia/Shanghai",
        hours=((time(9), time(12)), (time(13), time(18))),
        weekdays=frozenset({0, 1, 2, 3, 4}),
    )
    assert shanghai_office == DEFAULT_CALENDAR
    assert calendar_from_settings({}) == DEFAULT_CALENDAR


def test_settings_build_the_same_calendar_as_code():
    settings = {
        "timezone": "Asia/Shanghai",
        "hours": [["13:00", "18:00"], ["09:00", "12:00"]],  # order does not matter
        "weekdays": [0, 1, 2, 3, 4],
        "holidays": ["2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19"]
        + ["2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23"]
        + [f"2026-10-0{n}" for n in range(1, 8)],
        "workdays": ["2026-02-14", "2026-02-28", "2026-09-27", date(2026, 10, 10)],  # YAML dates
    }
    assert calendar_from_settings(settings) == CHINA_2026


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"hours": [["09:00", "12:00"], ["11:30", "18:00"]]}, "11:30-18:00 overlaps 09:00-12:00"),
        ({"hours": [["18:00", "09:00"]]}, "18:00-09:00: end is not after start"),
        ({"hours": [["09:00", "09:00"]]}, "09:00-09:00: end is not after start"),
        ({"hours": [["09:00", "12:00"], ["9h", "18:00"]]}, r"hours\[1\]: '9h' is not a time"),
        ({"hours": [["09:00", "24:00"]]}, r"hours\[0\]: '24:00' is not a time"),
        ({"hours": [["09:00"]]}, r"hours\[0\] must be a \[\"HH:MM\", \"HH:MM\"\] pair"),
        ({"hours": "09:00-18:00"}, "'hours' must be a list"),
        ({"hours": []}, "at least one working period"),
        ({"weekdays": [0, 7]}, "weekday 7 is not"),
        ({"weekdays": ["1"]}, "weekday '1' is not"),
        ({"weekdays": []}, "at least one working weekday"),
        ({"holidays": ["2026-10-01", "2026-13-01"]}, r"holidays\[1\]: '2026-13-01' is not a date"),
        ({"holidays": ["2026/10/01"]}, r"holidays\[0\]: '2026/10/01' is not a date"),
        ({"workdays": [20261010]}, r"workdays\[0\]: 20261010 is not a date"),
        (
            {"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]},
            "2026-10-10 is both a holiday and a workday",
        ),
        ({"timezone": "Asia/Beijing"}, "unknown timezone 'Asia/Beijing'"),
        ({"timezone": "../etc/passwd"}, "unknown timezone"),
        ({"timezone": ""}, "IANA name"),
        ({"holiday": ["2026-10-01"]}, "unknown calendar setting 'holiday'"),
    ],
)
def test_bad_settings_are_refused_naming_the_bad_entry(settings, message):
    with pytest.raises(ValueError, match=message):
        calendar_from_settings(settings)
