"""Frequency expressions: rate(...), at(...) and cron with time zones (pure functions, no I/O).

Shared by server and agent; must not import ``openassist.server``, ``openassist.agent`` or
``openassist.cli``. Standard library only (``zoneinfo`` for IANA zones): the agent uses it.

- ``parse(text) -> Frequency`` (Rate | At | Cron) raises ``FrequencyError`` whose ``code`` is a
  catalog code (BadCronExpression, InvalidRateExpression, ...).
- ``check(...)`` adds the rules that need the clock and the deployment's minimum intervals.
- ``next_run(frequency, after, created, local_zone)`` is the next run strictly after ``after``.
- ``wire_form(frequency)`` is ``(repeat, cron)`` as the agent protocol carries them.
"""

from openassist.expressions.errors import FrequencyError
from openassist.expressions.frequency import (
    At,
    Cron,
    Frequency,
    Rate,
    check,
    next_run,
    parse,
    wire_form,
)

__all__ = [
    "At",
    "Cron",
    "Frequency",
    "FrequencyError",
    "Rate",
    "check",
    "next_run",
    "parse",
    "wire_form",
]
