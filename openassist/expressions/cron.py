"""Cron expressions, seconds first, with optional year and time zone (API.md 4.3, 4.4).

When a run happens: at every instant whose wall-clock reading in the schedule's zone matches
the fields. So a wall-clock time that a spring-forward skips does not occur (no run), and a
wall-clock time that a fall-back repeats runs once, at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from openassist.expressions.fields import (
    MONTHS,
    YEARS,
    DaySpec,
    bad,
    month_day_spec,
    values,
    week_day_spec,
)
from openassist.expressions.zones import parse_zone

_YEAR_TOKEN = re.compile(r"\*|\?|\*/\d+|.*(19[7-9][0-9]|20[0-9][0-9]).*")
_SECOND, _DAY = timedelta(seconds=1), timedelta(days=1)


@dataclass(frozen=True)
class CronSpec:
    """The fields of a cron expression; ``zone`` is None when the expression names none (the
    instance's own zone applies)."""

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: DaySpec
    months: frozenset[int]
    years: frozenset[int]
    zone: tzinfo | None

    def next_fire(self, after: datetime, default_zone: tzinfo = UTC) -> datetime | None:
        """The first run strictly after ``after`` (aware), in UTC; None when there is none."""
        zone = self.zone or default_zone
        local = after.astimezone(zone).replace(tzinfo=None, microsecond=0, fold=0)
        start = local + _SECOND
        while (candidate := self.next_wall_time(start)) is not None:
            instant = candidate.replace(tzinfo=zone, fold=0).astimezone(UTC)
            exists = instant.astimezone(zone).replace(tzinfo=None) == candidate
            if exists and instant > after:
                return instant
            start = candidate + _SECOND
        return None

    def next_wall_time(self, start: datetime) -> datetime | None:
        """The first naive wall-clock time at or after ``start`` matching every field."""
        t = start
        while t.year <= YEARS[1]:
            if t.year not in self.years:
                year = min((y for y in self.years if y > t.year), default=None)
                if year is None:
                    return None
                t = datetime(year, 1, 1)
            elif t.month not in self.months:
                month = min((m for m in self.months if m > t.month), default=None)
                t = datetime(t.year + 1, 1, 1) if month is None else datetime(t.year, month, 1)
            elif not self.days.matches(t.year, t.month, t.day):
                t = datetime(t.year, t.month, t.day) + _DAY
            elif t.hour not in self.hours:
                hour = min((h for h in self.hours if h > t.hour), default=None)
                midnight = datetime(t.year, t.month, t.day)
                t = midnight + _DAY if hour is None else midnight.replace(hour=hour)
            elif t.minute not in self.minutes:
                minute = min((m for m in self.minutes if m > t.minute), default=None)
                top = t.replace(minute=0, second=0)
                t = top + timedelta(hours=1) if minute is None else top.replace(minute=minute)
            elif t.second not in self.seconds:
                second = min((s for s in self.seconds if s > t.second), default=None)
                top = t.replace(second=0)
                t = top + timedelta(minutes=1) if second is None else top.replace(second=second)
            else:
                return t
        return None


def split_tokens(text: str) -> tuple[list[str], str | None, str | None]:
    """The six fields, the year token and the zone token of an expression (the agent's rule: a
    7th token is a year when it is ``*``, ``?``, ``*/n`` or holds a year 1970-2099)."""
    tokens = text.split()
    if len(tokens) == 6:
        return tokens, None, None
    if len(tokens) == 7:
        if _YEAR_TOKEN.fullmatch(tokens[6]):
            return tokens[:6], tokens[6], None
        return tokens[:6], None, tokens[6]
    if len(tokens) == 8:
        return tokens[:6], tokens[6], tokens[7]
    raise bad(f"{len(tokens)} fields; give 6 or 7 (seconds first), then an optional time zone")


def parse_cron(text: str) -> CronSpec:
    """Parse ``sec min hour day-of-month month day-of-week [year] [zone]``."""
    fields, year, zone = split_tokens(text)
    second, minute, hour, month_day, month, week_day = fields
    if year in (None, "*", "?"):
        years = frozenset(range(YEARS[0], YEARS[1] + 1))
    else:
        assert year is not None
        years = values(year, *YEARS)
    day_parts = month_day_spec(month_day) | week_day_spec(week_day)
    return CronSpec(
        seconds=values(second, 0, 59),
        minutes=values(minute, 0, 59),
        hours=values(hour, 0, 23),
        days=DaySpec(**day_parts),  # type: ignore[arg-type]
        months=values(month, 1, 12, MONTHS),
        years=years,
        zone=None if zone is None else parse_zone(zone),
    )
