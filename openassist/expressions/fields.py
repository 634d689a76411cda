"""Cron fields, seconds first (API.md 4.3): parsing of one field into the values it allows.

Numbers allow at most one leading zero; months and weekdays also by name (JAN, JANUARY, MON,
MONDAY, any case). Weekdays are 1 = Monday ... 7 = Sunday, and 0 is Sunday too; inside this
package they are Python weekdays (0 = Monday ... 6 = Sunday).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from openassist.expressions.errors import BAD_CRON, FrequencyError

_NUMBER = re.compile(r"0?(0|[1-9][0-9]*)")
MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS |= {name.upper(): i for i, name in enumerate(calendar.month_name) if name}
WEEKDAYS = {name.upper(): (i + 1) for i, name in enumerate(calendar.day_abbr)}
WEEKDAYS |= {name.upper(): (i + 1) for i, name in enumerate(calendar.day_name)}
YEARS = (1970, 2099)


def bad(detail: str) -> FrequencyError:
    return FrequencyError(BAD_CRON, detail)


def number(text: str, low: int, high: int, names: dict[str, int] | None = None) -> int:
    """One value of a field, by number or by name, checked against ``low..high``."""
    if names is not None and text.upper() in names:
        return names[text.upper()]
    if not _NUMBER.fullmatch(text):
        raise bad(f"{text!r} is not a number (at most one leading zero) or a known name")
    value = int(text)
    if not low <= value <= high:
        raise bad(f"{value} is outside {low}-{high}")
    return value


def values(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """The values of a field made of ``*``, ``a``, ``a-b``, ``a/n``, ``*/n``, ``a-b/n`` items
    separated by commas."""
    found: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = number(step_text, 1, high - low + 1 if high > low else 1) if slash else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            first, last = number(start_text, low, high, names), number(end_text, low, high, names)
            if first > last:
                raise bad(f"the range {base!r} runs backwards")
        else:
            first = number(base, low, high, names)
            last = high if slash else first
        found.update(range(first, last + 1, step))
    return frozenset(found)


@dataclass(frozen=True)
class DaySpec:
    """Day-of-month and day-of-week together, as the day filter of a cron expression."""

    month_days: frozenset[int] = frozenset()
    last_day: bool = False
    last_weekday_of_month: bool = False
    nearest_weekday: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    last_of_weekday: frozenset[int] = frozenset()
    nth_weekday: frozenset[tuple[int, int]] = frozenset()
    month_any: bool = True
    week_any: bool = True

    def matches(self, year: int, month: int, day: int) -> bool:
        if self.month_any and self.week_any:
            return True
        by_month = not self.month_any and self._month_matches(year, month, day)
        by_week = not self.week_any and self._week_matches(year, month, day)
        return by_month or by_week  # both restricted: either one suffices, as in Vixie cron

    def _month_matches(self, year: int, month: int, day: int) -> bool:
        last = calendar.monthrange(year, month)[1]
        if day in self.month_days or (self.last_day and day == last):
            return True
        if self.last_weekday_of_month and day == nearest_weekday(year, month, last):
            return True
        return any(
            n <= last and day == nearest_weekday(year, month, n) for n in self.nearest_weekday
        )

    def _week_matches(self, year: int, month: int, day: int) -> bool:
        weekday = calendar.weekday(year, month, day)
        if weekday in self.weekdays:
            return True
        last = calendar.monthrange(year, month)[1]
        if weekday in self.last_of_weekday and day + 7 > last:
            return True
        return (weekday, (day - 1) // 7 + 1) in self.nth_weekday


def nearest_weekday(year: int, month: int, day: int) -> int:
    """The weekday (Mon-Fri) nearest to ``day`` without leaving the month (the ``W`` rule)."""
    last = calendar.monthrange(year, month)[1]
    weekday = calendar.weekday(year, month, day)
    if weekday == 5:
        return day - 1 if day > 1 else day + 2
    if weekday == 6:
        return day + 1 if day < last else day - 2
    return day


def _python_weekday(value: int) -> int:
    return 6 if value in (0, 7) else value - 1


def month_day_spec(text: str) -> dict[str, object]:
    """Day-of-month: ``? * L LW nW`` or a value list (1-31)."""
    if text in ("?", "*"):
        return {"month_any": True}
    upper = text.upper()
    if upper == "L":
        return {"month_any": False, "last_day": True}
    if upper == "LW":
        return {"month_any": False, "last_weekday_of_month": True}
    if upper.endswith("W"):
        return {"month_any": False, "nearest_weekday": frozenset({number(text[:-1], 1, 31)})}
    if "L" in upper or "W" in upper:
        raise bad(f"day-of-month {text!r}: L and W do not combine with lists or ranges")
    return {"month_any": False, "month_days": values(text, 1, 31)}


def week_day_spec(text: str) -> dict[str, object]:
    """Day-of-week: ``? * L nL d#k`` or a value list (1-7 = Monday-Sunday, 0 = Sunday)."""
    if text in ("?", "*"):
        return {"week_any": True}
    upper = text.upper()
    if upper == "L":
        return {"week_any": False, "weekdays": frozenset({6})}
    if upper.endswith("L"):
        day = _python_weekday(number(text[:-1], 0, 7, WEEKDAYS))
        return {"week_any": False, "last_of_weekday": frozenset({day})}
    if "#" in text:
        day_text, _, nth_text = text.partition("#")
        day = _python_weekday(number(day_text, 0, 7, WEEKDAYS))
        return {"week_any": False, "nth_weekday": frozenset({(day, number(nth_text, 1, 5))})}
    if "L" in upper:
        raise bad(f"day-of-week {text!r}: L does not combine with lists or ranges")
    days = values(text, 0, 7, WEEKDAYS)
    return {"week_any": False, "weekdays": frozenset(_python_weekday(d) for d in days)}
