"""The agent's periodic duties (heartbeat, kick channel, task fetch) under supervision.

Each duty handles the failures it expects (the server unreachable: ChannelError) itself. Anything
else (a bug, a full disk under the journal) used to end the duty's loop silently while the others
went on, so heartbeats said "online" and every task ended DeliveryTimeout. Supervised, a duty that
raises is logged with its traceback, restarted after a backoff, and, once it has failed
``FAULT_AFTER`` times in a row, named in the heartbeat (``faults=``) so that ``diagnose`` shows
it as the agent's own fault; its next success clears it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from openassist.agent.settings import AgentSettings, backoff

log = logging.getLogger(__name__)

FAULT_AFTER = 2  # failures in a row before a duty is reported failing
_FAULT_TEXT = 160  # characters of each failure told to the server


class DutyHealth:
    """How each duty fares: failures in a row, and the last one."""

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, str]] = {}

    def ok(self, duty: str) -> None:
        if self._failures.pop(duty, None) is not None:
            log.warning("%s works again", duty)

    def failed(self, duty: str, error: BaseException) -> int:
        """Record a failure; returns how many in a row."""
        count = self._failures.get(duty, (0, ""))[0] + 1
        self._failures[duty] = (count, f"{type(error).__name__}: {error}"[:_FAULT_TEXT])
        return count

    def failing(self, duty: str) -> bool:
        return duty in self._failures

    def faults(self) -> str:
        """``duty: error`` of each duty failing repeatedly, ``; ``-separated ("" when none)."""
        return "; ".join(
            f"{duty}: {text}"
            for duty, (count, text) in self._failures.items()
            if count >= FAULT_AFTER
        )


async def supervise(
    duty: str,
    run: Callable[[], Coroutine[Any, Any, None]],
    health: DutyHealth,
    settings: AgentSettings,
) -> None:
    """Run ``run()`` until it returns; restart it after a backoff whenever it raises."""
    while True:
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            failures = health.failed(duty, error)
            log.exception("%s failed (%d in a row); restarting it", duty, failures)
            await asyncio.sleep(backoff(failures - 1, settings))
