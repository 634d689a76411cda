"""Reading the rollout parameters (README, "Rollouts") from text, for the API and the console
alike: each bad value raises its documented InvalidRolloutLimit code."""

from __future__ import annotations

import re
from datetime import UTC, datetime

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


MAX_DELIVERY_DEADLINE_S = 7 * 24 * 3600


def delivery_deadline(text: str, now_ms: int) -> int | None:
    """``DeliveryDeadline`` as ms since the epoch: seconds from now, or a UTC time."""
    text = text.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        at = now_ms + int(text) * 1000
    else:
        try:
            moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise InvalidParameter(api.DELIVERY_DEADLINE_MALFORMED, value=text) from None
        at = int(moment.timestamp() * 1000)
    if not now_ms < at <= now_ms + MAX_DELIVERY_DEADLINE_S * 1000:
        raise InvalidParameter(
            api.DELIVERY_DEADLINE_OUT_OF_RANGE, value=text, limit=MAX_DELIVERY_DEADLINE_S
        )
    return at


MAX_BATCH_WAIT_S = 3600


def batch_wait(text: str) -> int:
    """``BatchWait`` from a form: whole seconds, 0-3600, with the API's codes."""
    text = text.strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise InvalidParameter(
            api.PARAMETER_NOT_INTEGER, parameter="BatchWait", value=text
        ) from None
    if value < 0:
        raise InvalidParameter(api.PARAMETER_TOO_SMALL, parameter="BatchWait", minimum=0)
    if value > MAX_BATCH_WAIT_S:
        raise InvalidParameter(
            api.PARAMETER_TOO_LARGE, parameter="BatchWait", limit=MAX_BATCH_WAIT_S
        )
    return value
