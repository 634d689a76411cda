"""The agent's timings (one frozen object, built at ``agent run``), its retry delays, and the
wait between attempts."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class AgentSettings:
    heartbeat_s: float = 60.0
    poll_s: float = 60.0  # task-list poll while the kick channel is down
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0
    start_report_delay_s: float = 0.05
    # The kick channel is pinged this often; no answer within kick_pong_s means a dead peer (a
    # cut network leaves the TCP connection open on both ends, silent).
    kick_ping_s: float = 30.0
    kick_pong_s: float = 10.0
    kick_stable_s: float = 30.0  # a channel that lasted this long resets the reconnect backoff


def backoff(attempt: int, settings: AgentSettings) -> float:
    """Exponential backoff with full jitter, capped, so a returning fleet does not stampede."""
    ceiling = min(settings.backoff_max_s, settings.backoff_min_s * (2 ** min(attempt, 30)))
    return random.uniform(settings.backoff_min_s / 2, ceiling)


async def pause(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` have passed. Unlike ``asyncio.wait_for`` on
    Python 3.11, a cancellation that arrives just as the event is set is never lost (a lost one
    left a stopping agent waiting out a whole poll period instead of saying goodbye)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
