"""Time-zone suffixes of at/cron expressions (API.md 4.4): IANA names, GMT offsets, UTC."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, timedelta, timezone, tzinfo

from openassist.expressions.errors import (
    GMT_FORMAT,
    GMT_HOUR,
    GMT_MINUTE,
    TZ_CORRUPT,
    FrequencyError,
)

_GMT = re.compile(r"GMT([+-])(\d+):(\d+)")
_IANA = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)+")
MAX_EAST, MAX_WEST = 14, 12  # documented range GMT-12:59 .. GMT+14:59


def parse_zone(text: str) -> tzinfo:
    """The zone named by ``text``; raises FrequencyError with the documented code.

    IANA names load from the zone database of this machine (``zoneinfo``: PYTHONTZPATH, the
    system directories, then the tzdata package); a name that does not load, or loads from a
    damaged file, is TimezoneInformationCorrupt."""
    if text in ("UTC", "GMT"):
        return UTC
    if text.startswith("GMT"):
        return _gmt_offset(text)
    if not _IANA.fullmatch(text) or ".." in text:
        raise FrequencyError(TZ_CORRUPT, f"{text!r} is neither an IANA zone, GMT+H:MM nor UTC")
    try:
        return zoneinfo.ZoneInfo(text)
    # Any failure to read the zone's data (missing, truncated, garbage) is the same verdict.
    except Exception as exc:
        raise FrequencyError(TZ_CORRUPT, f"cannot load zone {text!r}: {exc}") from None


def _gmt_offset(text: str) -> tzinfo:
    match = _GMT.fullmatch(text)
    if match is None:
        raise FrequencyError(GMT_FORMAT, f"{text!r} is not GMT+H:MM or GMT-H:MM")
    sign, hour_text, minute_text = match.groups()
    hour = int(hour_text)
    if (len(hour_text) > 1 and hour_text[0] == "0") or len(hour_text) > 2:
        raise FrequencyError(
            GMT_HOUR, f"the hour of {text!r} has a leading zero or too many digits"
        )
    if hour > (MAX_EAST if sign == "+" else MAX_WEST):
        raise FrequencyError(GMT_HOUR, f"{text!r} is outside GMT-12:59 .. GMT+14:59")
    if len(minute_text) != 2 or int(minute_text) > 59:
        raise FrequencyError(GMT_MINUTE, f"the minutes of {text!r} must be 00 to 59")
    offset = timedelta(hours=hour, minutes=int(minute_text))
    return timezone(offset if sign == "+" else -offset, text)
