"""Frequency expressions: tables for each rule, and next-run times checked against a brute-force
walk over wall-clock minutes in the schedule's zone (DST changes included)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta, tzinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openassist.expressions import At, FrequencyError, Rate, check, next_run, parse, wire_form

NY = zoneinfo.ZoneInfo("America/New_York")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _runs(text: str, after: datetime, count: int) -> list[datetime]:
    frequency, found = parse(text), []
    for _ in range(count):
        following = next_run(frequency, after, after)
        assert following is not None
        found.append(following)
        after = following
    return found


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("0 15 10 ? * * 2027 Asia/Shanghai", T0, datetime(2027, 1, 1, 2, 15, tzinfo=UTC)),
        ("0 0/30 10-11 * * ? 2030 GMT+8:00", T0, datetime(2030, 1, 1, 2, 0, tzinfo=UTC)),
        ("0 0 10 ? * 4#2 2027", T0, datetime(2027, 1, 14, 10, tzinfo=UTC)),
        ("0 0 10 LW * ? UTC", T0, datetime(2026, 1, 30, 10, tzinfo=UTC)),
        ("0 0 10 15W * ?", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 16, 10, tzinfo=UTC)),
        ("0 0 10 1W * ?", datetime(2026, 7, 2, tzinfo=UTC), datetime(2026, 8, 3, 10, tzinfo=UTC)),
        ("0 0 10 ? * 6L", T0, datetime(2026, 1, 31, 10, tzinfo=UTC)),
        ("0 0 0 L FEB ? 2028", T0, datetime(2028, 2, 29, tzinfo=UTC)),
        ("0 0 0 29 2 ?", T0, datetime(2028, 2, 29, tzinfo=UTC)),
        ("0 0 8 ? * MONDAY", T0, datetime(2026, 1, 5, 8, tzinfo=UTC)),
        ("0 0 8 ? * 0", T0, datetime(2026, 1, 4, 8, tzinfo=UTC)),
        ("0 0/5 14 * 10 ? 2027/2 UTC", T0, datetime(2027, 10, 1, 14, tzinfo=UTC)),
        ("08 0 0 * * ?", T0, datetime(2026, 1, 1, 0, 0, 8, tzinfo=UTC)),
    ],
)
def test_cron_next_run_table(text: str, after: datetime, expected: datetime) -> None:
    assert next_run(parse(text), after, after) == expected


def test_a_time_skipped_by_spring_forward_does_not_run_and_a_repeated_one_runs_once() -> None:
    spring = _runs("0 30 2 * * ? America/New_York", datetime(2026, 3, 7, tzinfo=UTC), 2)
    assert [r.astimezone(NY).day for r in spring] == [7, 9]
    autumn = _runs("0 30 1 * * ? America/New_York", datetime(2026, 10, 31, 12, tzinfo=UTC), 2)
    assert [r - autumn[0] for r in autumn] == [timedelta(0), timedelta(hours=25)]


def test_rate_is_fixed_rate_anchored_at_creation() -> None:
    rate = parse("RATE ( 5 m )")
    assert rate == Rate(300)
    assert next_run(rate, T0, T0) == T0 + timedelta(minutes=5)
    assert next_run(rate, T0 + timedelta(minutes=7), T0) == T0 + timedelta(minutes=10)


def test_at_is_normalised_to_utc_for_the_agent() -> None:
    at = parse("at(2030-06-06 13:15:30 GMT-7:00)")
    assert at == At(datetime(2030, 6, 6, 20, 15, 30, tzinfo=UTC))
    assert wire_form(at) == ("At", "at(2030-06-06T20:15:30)")
    assert parse("2030-06-06T20:15:30") == at
    assert next_run(at, datetime(2031, 1, 1, tzinfo=UTC), T0) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("0 0 1 * *", "BadCronExpression"),
        ("60 0 1 * * ?", "BadCronExpression"),
        ("008 0 1 * * ?", "BadCronExpression"),
        ("0 0 1 L,3 * ?", "BadCronExpression"),
        ("0 0 1 ? * 2#6", "BadCronExpression"),
        ("0 0/0 1 * * ?", "BadCronExpression"),  # a step of zero
        ("0 0 10-5 * * ?", "BadCronExpression"),  # a range that runs backwards
        ("0 0 1 ? * L,3", "BadCronExpression"),  # L in a day-of-week list
        ("0 0 1 * * ? 1960-2030", "BadCronExpression"),
        ("0 0 1 * * ? GMT+8", "InvalidGMTOffsetForTimezone"),
        ("0 0 1 * * ? GMT+08:00", "InvalidGMTOffsetHourForTimezone"),
        ("0 0 1 * * ? GMT-13:00", "InvalidGMTOffsetHourForTimezone"),
        ("0 0 1 * * ? GMT+15:00", "InvalidGMTOffsetHourForTimezone"),
        ("0 0 1 * * ? GMT+8:5", "InvalidGMTOffsetMinuteForTimezone"),
        ("0 0 1 * * ? GMT+8:60", "InvalidGMTOffsetMinuteForTimezone"),
        ("0 0 1 * * ? Mars/Olympus_Mons", "TimezoneInformationCorrupt"),
        ("0 0 1 * * ? CEST", "TimezoneInformationCorrupt"),
        ("rate(0m)", "InvalidRateExpression"),
        ("rate(5 weeks)", "InvalidRateExpression"),
        ("rate(1001d)", "RateFrequencyTooLarge"),
        ("at(2030-13-01 00:00:00)", "InvalidAtExpression"),
        ("at(tomorrow)", "InvalidAtExpression"),
        ("at(2030-06-06 13:15:30 GMT+08:00)", "InvalidGMTOffsetHourForTimezone"),
    ],
)
def test_malformed_expressions_name_their_code(text: str, code: str) -> None:
    with pytest.raises(FrequencyError) as caught:
        parse(text)
    assert caught.value.code == code


def test_wire_forms_of_rate_and_cron() -> None:
    assert wire_form(parse("rate(5m)")) == ("Rate", "rate(300s)")
    assert wire_form(parse("0 0 1 * * ? UTC")) == ("Period", "0 0 1 * * ? UTC")


def test_day_of_week_l_alone_is_sunday() -> None:
    # 2026-01-01 is a Thursday; the first Sunday after it is the 4th.
    assert next_run(parse("0 0 10 ? * L"), T0, T0) == datetime(2026, 1, 4, 10, tzinfo=UTC)


def test_the_gmt_range_edges_are_accepted() -> None:
    for zone in ("GMT+14:59", "GMT-12:59", "GMT+0:00", "GMT+5:45", "UTC", "GMT"):
        assert next_run(parse(f"0 0 1 * * ? {zone}"), T0, T0) is not None


@pytest.mark.parametrize(
    ("text", "timeout", "code"),
    [
        ("rate(30s)", 10, "RateFrequencyTooLarge"),
        ("rate(8d)", 10, "RateFrequencyTooLarge"),
        ("rate(2m)", 120, "RateFrequencyTooLarge"),
        ("0/5 * * * * ?", 1, "BadCronExpression"),
        ("0 * * * * ?", 90, "BadCronExpression"),
        ("0 0 1 * * ? 2025", 60, "CronExpressionExpired"),
        ("0 0 0 30 2 ?", 60, "CronExpressionExpired"),
        ("at(2025-12-31 23:59:59)", 60, "AtExpressionExpired"),
    ],
)
def test_check_applies_clock_and_interval_rules(text: str, timeout: int, code: str) -> None:
    with pytest.raises(FrequencyError) as caught:
        check(parse(text), T0, timeout, min_rate_s=60, min_cron_s=10)
    assert caught.value.code == code


def test_check_accepts_a_future_at_and_a_cron_with_one_run_left() -> None:
    check(parse("at(2030-06-06 13:15:30)"), T0, 60, min_rate_s=60, min_cron_s=10)
    check(parse("0 0 1 1 1 ? 2030"), T0, 60, min_rate_s=60, min_cron_s=10)


def test_lowered_minimums_let_a_test_deployment_run_often() -> None:
    check(parse("rate(2s)"), T0, 1, min_rate_s=1, min_cron_s=1)
    check(parse("0/2 * * * * ?"), T0, 1, min_rate_s=1, min_cron_s=1)
    check(parse("0/10 * * * * ?"), T0, 5, min_rate_s=60, min_cron_s=10)


# --- property: next_run agrees with a brute-force walk --------------------------------------


def _last_day(year: int, month: int) -> int:
    first_next = datetime(year + month // 12, month % 12 + 1, 1)
    return (first_next - timedelta(days=1)).day


def _is_weekday(d: datetime) -> bool:
    return d.isoweekday() <= 5


def _nearest_weekday(year: int, month: int, day: int) -> int:
    last = _last_day(year, month)
    if day > last:
        return -1
    for delta in (0, -1, 1, -2, 2):
        moved = 1 <= day + delta <= last and _is_weekday(datetime(year, month, day + delta))
        if moved and (delta == 0 or not _is_weekday(datetime(year, month, day))):
            return day + delta
    return -1


def _day_ok(local: datetime, dom: str, dow: str) -> bool:
    last = _last_day(local.year, local.month)
    by_dom = {
        "*": True,
        "?": True,
        "L": local.day == last,
        "LW": local.day == _nearest_weekday(local.year, local.month, last),
        "15W": local.day == _nearest_weekday(local.year, local.month, 15),
        "1,15": local.day in (1, 15),
    }[dom]
    iso = local.isoweekday()
    by_dow = {
        "*": True,
        "?": True,
        "2#1": iso == 2 and local.day <= 7,
        "7L": iso == 7 and local.day + 7 > last,
        "MON-FRI": iso <= 5,
    }[dow]
    return by_dom and by_dow


def _expand(field: str, high: int) -> set[int]:
    if field == "*":
        return set(range(high + 1))
    if "/" in field:
        start, step = field.split("/")
        return set(range(int(start), high + 1, int(step)))
    if "-" in field:
        low, top = field.split("-")
        return set(range(int(low), int(top) + 1))
    return {int(v) for v in field.split(",")}


def _brute_force(
    fields: tuple[str, ...], zone: tzinfo, after: datetime, end: datetime
) -> datetime | None:
    second, minute, hour, dom, dow = fields
    seconds = sorted(_expand(second, 59))
    minutes, hours = _expand(minute, 59), _expand(hour, 23)
    t = after.replace(second=0, microsecond=0)
    while t < end:
        local = t.astimezone(zone)
        if (
            local.fold == 0
            and local.minute in minutes
            and local.hour in hours
            and _day_ok(local, dom, dow)
        ):
            for s in seconds:
                instant = t + timedelta(seconds=s)
                if instant > after:
                    return instant
        t += timedelta(minutes=1)
    return None


ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC", "GMT+5:45"]
DAYS = [("*", "?"), ("?", "*"), ("L", "?"), ("LW", "?"), ("15W", "?"), ("1,15", "?"),
        ("?", "2#1"), ("?", "7L"), ("?", "MON-FRI")]  # fmt: skip


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    second=st.sampled_from(["0", "0/15", "5,35", "10-12", "*"]),
    minute=st.sampled_from(["*", "0/20", "7", "30", "0-5"]),
    hour=st.sampled_from(["*", "1-3", "2", "0/6", "23"]),
    days=st.sampled_from(DAYS),
    zone_name=st.sampled_from(ZONES),
    after=st.datetimes(
        min_value=datetime(2026, 3, 5), max_value=datetime(2026, 11, 5), timezones=st.just(UTC)
    ),
    near_transition=st.booleans(),
)
def test_next_run_agrees_with_brute_force(
    second: str,
    minute: str,
    hour: str,
    days: tuple[str, str],
    zone_name: str,
    after: datetime,
    near_transition: bool,
) -> None:
    if near_transition:  # start just before a DST change of the zones above
        after = datetime(2026, 3, 7 + after.day % 3, after.hour, tzinfo=UTC)
        if after.minute % 2:
            after = datetime(2026, 10, 24 + after.day % 10, after.hour, tzinfo=UTC)
    text = f"{second} {minute} {hour} {days[0]} * {days[1]} {zone_name}"
    zone = parse(f"0 0 0 * * ? {zone_name}").spec.zone  # type: ignore[union-attr]
    assert zone is not None
    end = after + timedelta(days=3)
    expected = _brute_force((second, minute, hour, *days), zone, after, end)
    got = next_run(parse(text), after, after)
    if expected is None:
        assert got is None or got >= end
    else:
        assert got == expected
