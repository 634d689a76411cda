"""Codes about the Frequency of timed tasks (API.md section 4).

The server refuses what it can tell at the API (InvalidParam.Frequency); these per-instance codes
come from the agent, which judges with its own clock and time-zone data. All are Invalid: the
schedule itself is wrong for this instance.
"""

from __future__ import annotations

from openassist.catalog.model import CatalogEntry, Phase, Source
from openassist.protocol.statuses import InstanceStatus as S

_GMT_RANGE = (
    "The supported range is GMT-12:59 to GMT+14:59, written without a leading zero in the hour "
    "(`GMT+8:00`, not `GMT+08:00`)"
)


def _entry(code: str, message: str, solution: str) -> CatalogEntry:
    return CatalogEntry(
        code=code,
        phase=Phase.SCHEDULE,
        status=S.INVALID,
        message=message,
        solution=solution,
        retryable=False,
        source=Source.AGENT,
        legacy_info="the cron job expression is invalid" if code == "BadCronExpression" else None,
    )


ENTRIES: tuple[CatalogEntry, ...] = (
    _entry(
        "BadCronExpression",
        "The specified cron expression is invalid.",
        "Fix the Frequency: six or seven fields, seconds first (`0 0/30 10-11 * * ? 2030`), "
        "day-of-week 1-7 with 1 = Monday, `?` in one of day-of-month or day-of-week, and an "
        "optional time zone suffix such as `Asia/Shanghai` or `GMT+8:00`.",
    ),
    _entry(
        "CronExpressionExpired",
        "The cron expression has expired. The corresponding scheduled task will not be executed.",
        "The expression has no future run (for example, its year is past). Give a year range "
        "that includes the future, or drop the year field; also check the instance clock "
        "(`timedatectl`).",
    ),
    _entry(
        "InvalidGMTOffsetForTimezone",
        "The format of the GMT offset time zone specified in the cron expression is invalid.",
        f"Write the offset as `GMT+H:MM` or `GMT-H:MM`. {_GMT_RANGE}.",
    ),
    _entry(
        "InvalidGMTOffsetHourForTimezone",
        "The GMT offset hour value specified in the cron expression is invalid.",
        f"Fix the hour of the GMT offset. {_GMT_RANGE}.",
    ),
    _entry(
        "InvalidGMTOffsetMinuteForTimezone",
        "The GMT offset minute value specified in the cron expression is invalid.",
        "Fix the minutes of the GMT offset: two digits from 00 to 59 (`GMT+5:45`).",
    ),
    _entry(
        "TimezoneInformationCorrupt",
        "The Cloud Assistant Agent cannot parse the time zone information because the time zone "
        "file is corrupted or for other reasons.",
        "The instance cannot load the named zone. Check that /usr/share/zoneinfo/ZONE exists "
        "(reinstall the tzdata package if not) and that the name is an IANA zone such as "
        "`Europe/Berlin`, or use a GMT offset or UTC instead.",
    ),
    _entry(
        "InvalidRateExpression",
        "The Rate expression is invalid.",
        "Write the interval as `rate(<n><unit>)` with a positive integer and unit s, m, h or d, "
        "for example `rate(5m)`.",
    ),
    _entry(
        "RateFrequencyTooLarge",
        "The scheduled execution frequency specified in the Rate expression is too high.",
        "The interval must be at least 60 seconds, at most 7 days, and longer than the task "
        "Timeout; pick an interval within that range.",
    ),
    _entry(
        "InvalidAtExpression",
        "The timestamp (At expression) is invalid.",
        "Write the time as `at(yyyy-MM-dd HH:mm:ss <tz>)`, for example "
        "`at(2030-06-06 13:15:30 Asia/Shanghai)`; without a time zone it is UTC.",
    ),
    _entry(
        "AtExpressionExpired",
        "The timestamp (At expression) has expired. The corresponding scheduled task will not be "
        "executed.",
        "Give a time in the future (remember that `at` defaults to UTC), and check the "
        "instance clock (`timedatectl`) if the time looked future to you.",
    ),
)
