"""A Frequency (API.md 4): ``rate(...)``, ``at(...)`` or a cron expression, parsed and judged.

``parse`` says whether the text is well formed; ``check`` adds the rules that depend on the
clock and the deployment (expired, minimum intervals, longer than the timeout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from openassist.expressions.cron import CronSpec, parse_cron
from openassist.expressions.errors import (
    AT_EXPIRED,
    BAD_AT,
    BAD_CRON,
    BAD_RATE,
    CRON_EXPIRED,
    RATE_TOO_LARGE,
    FrequencyError,
)
from openassist.expressions.zones import parse_zone

_RATE = re.compile(r"rate\s*\(\s*(\d+)\s*([smhd])\s*\)", re.IGNORECASE)
_AT = re.compile(r"at\s*\(\s*(.*?)\s*\)", re.IGNORECASE)
_AT_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\s+(\S+))?")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
AGENT_MAX_RATE_S = 1000 * 86400  # the official agent's own cap
MAX_RATE_S = 7 * 86400  # the documented server-side cap
CRON_GAP_SAMPLES = 100  # consecutive runs compared for the minimum interval


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_fire(self, after: datetime, created: datetime) -> datetime:
        """Fixed rate anchored at ``created``: the first ``created + k * seconds`` (k >= 1)
        strictly after ``after``."""
        elapsed = (after - created).total_seconds()
        k = max(1, int(elapsed // self.seconds) + 1)
        return created + timedelta(seconds=k * self.seconds)


@dataclass(frozen=True)
class At:
    instant: datetime  # aware, UTC


@dataclass(frozen=True)
class Cron:
    spec: CronSpec
    text: str


Frequency = Rate | At | Cron


def parse(text: str) -> Frequency:
    """Parse a Frequency; raises FrequencyError with the catalog code of the first problem."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith("rate"):
        return _parse_rate(stripped)
    if lowered.startswith("at"):
        return _parse_at(stripped)
    if len(stripped.split()) < 2 and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\S+", stripped):
        return _parse_at(f"at({stripped})")  # the agent also takes the bare UTC form
    return Cron(parse_cron(stripped), stripped)


def _parse_rate(text: str) -> Rate:
    match = _RATE.fullmatch(text)
    if match is None:
        raise FrequencyError(BAD_RATE, f"{text!r} is not rate(<n><s|m|h|d>)")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds <= 0:
        raise FrequencyError(BAD_RATE, "the interval must be a positive number")
    if seconds > AGENT_MAX_RATE_S:
        raise FrequencyError(RATE_TOO_LARGE, "the interval is longer than 1000 days")
    return Rate(seconds)


def _parse_at(text: str) -> At:
    match = _AT.fullmatch(text)
    inner = _AT_TIME.fullmatch(match.group(1)) if match else None
    if inner is None:
        raise FrequencyError(BAD_AT, f"{text!r} is not at(yyyy-MM-dd HH:mm:ss [zone])")
    date_text, time_text, zone_text = inner.groups()
    try:
        wall = datetime.fromisoformat(f"{date_text}T{time_text}")
    except ValueError:
        raise FrequencyError(BAD_AT, f"{date_text} {time_text} is not a valid time") from None
    zone: tzinfo = UTC if zone_text is None else parse_zone(zone_text)
    return At(wall.replace(tzinfo=zone).astimezone(UTC))


def next_run(
    frequency: Frequency, after: datetime, created: datetime, local_zone: tzinfo = UTC
) -> datetime | None:
    """The next run strictly after ``after``; None when the schedule has no more runs."""
    if isinstance(frequency, Rate):
        return frequency.next_fire(after, created)
    if isinstance(frequency, At):
        return frequency.instant if frequency.instant > after else None
    return frequency.spec.next_fire(after, local_zone)


def wire_form(frequency: Frequency) -> tuple[str, str]:
    """``(repeat, cron)`` as the agent protocol carries them: at() normalised to UTC."""
    if isinstance(frequency, Rate):
        return "Rate", f"rate({frequency.seconds}s)"
    if isinstance(frequency, At):
        return "At", f"at({frequency.instant.strftime('%Y-%m-%dT%H:%M:%S')})"
    return "Period", frequency.text


def check(
    frequency: Frequency,
    now: datetime,
    timeout_s: int,
    min_rate_s: int,
    min_cron_s: int,
    local_zone: tzinfo = UTC,
) -> None:
    """The rules of API.md 4 that need the clock and the settings; raises FrequencyError."""
    if isinstance(frequency, Rate):
        if frequency.seconds < min_rate_s or frequency.seconds > MAX_RATE_S:
            raise FrequencyError(RATE_TOO_LARGE, f"the interval must be {min_rate_s} s to 7 days")
        if frequency.seconds <= timeout_s:
            raise FrequencyError(RATE_TOO_LARGE, f"the interval must exceed Timeout {timeout_s}")
        return
    if isinstance(frequency, At):
        if frequency.instant <= now:
            raise FrequencyError(AT_EXPIRED, f"{frequency.instant:%Y-%m-%d %H:%M:%S} UTC is past")
        return
    _check_cron(frequency.spec, now, max(min_cron_s, timeout_s), local_zone)


def _check_cron(spec: CronSpec, now: datetime, min_gap_s: int, local_zone: tzinfo) -> None:
    previous = spec.next_fire(now, local_zone)
    if previous is None:
        raise FrequencyError(CRON_EXPIRED, "the expression has no run in the future")
    for _ in range(CRON_GAP_SAMPLES):
        following = spec.next_fire(previous, local_zone)
        if following is None:
            return
        if (following - previous).total_seconds() < min_gap_s:
            raise FrequencyError(
                BAD_CRON,
                f"runs at {previous:%H:%M:%S} and {following:%H:%M:%S} UTC are less than "
                f"{min_gap_s} s apart (the minimum interval, and at least the Timeout)",
            )
        previous = following
