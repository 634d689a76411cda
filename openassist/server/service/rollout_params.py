"""Reading the rollout parameters (README, "Rollouts") from text, for the API and the console
alike: each bad value raises its documented InvalidRolloutLimit code."""

from __future__ import annotations

import re

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.protocol.statuses import RepeatMode

_LIMIT = re.compile(r"(\d{1,9})(%?)")
# A reboot task runs on each machine at that machine's own boot: there is no fire of the whole
# fleet to roll out, so limits make no sense there (a Period task's each fire is a rollout).
PER_MACHINE = (RepeatMode.NEXT_REBOOT_ONLY, RepeatMode.EVERY_REBOOT)


def rollout_limit(name: str, text: str, zero_allowed: bool) -> str:
    """``MaxConcurrency`` / ``MaxErrors``: "" (none), "N" targets or "N%" of them, normalised
    ("010" is "10"). MaxErrors=0 is a real limit (stop at the first failure); MaxConcurrency=0
    would run nothing."""
    text = text.strip()
    if not text:
        return ""
    if text.startswith("-") and _LIMIT.fullmatch(text[1:]):
        raise InvalidParameter(api.ROLLOUT_LIMIT_NEGATIVE, parameter=name, value=text)
    found = _LIMIT.fullmatch(text)
    if found is None:
        raise InvalidParameter(api.ROLLOUT_LIMIT_MALFORMED, parameter=name, value=text)
    number, percent = int(found.group(1)), found.group(2)
    if percent and number > 100:
        raise InvalidParameter(api.ROLLOUT_PERCENT_TOO_LARGE, parameter=name, value=text)
    if number == 0 and not zero_allowed:
        raise InvalidParameter(api.ROLLOUT_CONCURRENCY_ZERO, parameter=name, value=text)
    return f"{number}{percent}"


def check_rollout(
    repeat_mode: RepeatMode, max_concurrency: str, max_errors: str, batch_wait: int
) -> None:
    """The parameters together: BatchWait spaces MaxConcurrency's batches, and a reboot task
    has no fleet-wide fire to roll out."""
    if batch_wait and not max_concurrency:
        raise InvalidParameter(api.ROLLOUT_BATCH_WAIT_ALONE, value=batch_wait)
    if (max_concurrency or max_errors) and repeat_mode in PER_MACHINE:
        raise InvalidParameter(api.ROLLOUT_TIMED_TASK, repeat_mode=repeat_mode.value)
