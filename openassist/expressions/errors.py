"""The one exception of the expressions package: a Frequency that cannot be scheduled.

``code`` is a catalog code (openassist/catalog/schedule.py): the API puts it in the message of
``InvalidParam.Frequency``; the agent reports it as ``invalid`` with ``param=cron``.
"""

from __future__ import annotations

BAD_CRON = "BadCronExpression"
CRON_EXPIRED = "CronExpressionExpired"
GMT_FORMAT = "InvalidGMTOffsetForTimezone"
GMT_HOUR = "InvalidGMTOffsetHourForTimezone"
GMT_MINUTE = "InvalidGMTOffsetMinuteForTimezone"
TZ_CORRUPT = "TimezoneInformationCorrupt"
BAD_RATE = "InvalidRateExpression"
RATE_TOO_LARGE = "RateFrequencyTooLarge"
BAD_AT = "InvalidAtExpression"
AT_EXPIRED = "AtExpressionExpired"


class FrequencyError(ValueError):
    """``code`` names the catalog entry; ``detail`` says what exactly is wrong."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
