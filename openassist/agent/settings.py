"""The agent's settings (one frozen object, built at ``agent run``): its timings and what it
takes from its environment variables, its retry delays, and the wait between attempts.

Every ``os.environ`` read of the agent is here: the other modules take their values from an
``AgentSettings`` (or, called on their own as tests do, from one made at that moment).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

STATE_DIR_ENV = "OPENASSIST_AGENT_DIR"
BOOT_ID_ENV = "OPENASSIST_AGENT_BOOT_ID"  # tests simulate a reboot with it
SYSTEM_STATE_ENV = "OPENASSIST_AGENT_SYSTEM_STATE"  # stands in for `systemctl is-system-running`
DOCKER_SOCKET_ENV = "OPENASSIST_AGENT_DOCKER_SOCKET"
BOOTSTRAPPED_ENV = "OPENASSIST_AGENT_BOOTSTRAPPED"  # set in the re-executed agent: no loop
SCRIPT_ENV_ENV = "OPENASSIST_AGENT_SCRIPT_ENV"  # names of agent variables scripts also get
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"


def _docker_socket(environ: Mapping[str, str]) -> str:
    """OPENASSIST_AGENT_DOCKER_SOCKET, else DOCKER_HOST=unix://..., else the usual socket."""
    explicit = environ.get(DOCKER_SOCKET_ENV)
    if explicit:
        return explicit
    host = environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return host.removeprefix("unix://")
    return DEFAULT_DOCKER_SOCKET


@dataclass(frozen=True)
class AgentEnvironment:
    """What the agent takes from its environment variables ("" where one is not set)."""

    state_dir: str = ""
    boot_id: str = ""  # overrides the kernel's boot id
    system_state: str | None = None  # None: ask systemd
    docker_socket: str = DEFAULT_DOCKER_SOCKET
    bootstrapped: str = ""  # the version this process was re-executed into
    lang: str = ""
    tz: str = ""
    # The variables the operator names in OPENASSIST_AGENT_SCRIPT_ENV that are set, in order.
    script_env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> AgentEnvironment:
        env = os.environ if environ is None else environ
        names = [name.strip() for name in env.get(SCRIPT_ENV_ENV, "").split(",")]
        return cls(
            state_dir=env.get(STATE_DIR_ENV, ""),
            boot_id=env.get(BOOT_ID_ENV, ""),
            system_state=env.get(SYSTEM_STATE_ENV),
            docker_socket=_docker_socket(env),
            bootstrapped=env.get(BOOTSTRAPPED_ENV, ""),
            lang=env.get("LANG", ""),
            tz=env.get("TZ", ""),
            script_env=tuple((name, env[name]) for name in names if name and name in env),
        )


@dataclass(frozen=True)
class AgentSettings:
    heartbeat_s: float = 60.0
    # Task-list poll while the kick channel is down; while it is up, kicks say when to fetch
    # and the poll (CONNECTED_POLL_FACTOR times rarer) only catches a kick that was lost.
    poll_s: float = 60.0
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0
    start_report_delay_s: float = 0.05
    # The kick channel is pinged when quiet this long, as the official agent does; no answer
    # within kick_pong_s means a dead peer (a cut network leaves the TCP connection open on both
    # ends, silent): noticed within 2 * kick_ping_s + kick_pong_s. The pong deadline is generous
    # because a busy server (a reconnect storm) answers late, and a channel dropped for that
    # costs it a reconnection (two TLS handshakes) exactly when it has no CPU to spare.
    kick_ping_s: float = 60.0
    kick_pong_s: float = 30.0
    kick_stable_s: float = 30.0  # a channel that lasted this long resets the reconnect backoff
    environment: AgentEnvironment = field(default_factory=AgentEnvironment.read)


# Issue 20: a poll is a signed call, about 1 ms of the server's one core; at 10,000 idle agents
# polling every minute that alone was a third of the CPU budget. A kick is a hint, the store is
# the truth: a lost kick (a bus message lost between nodes, a channel dying as it was sent) waits
# at most this many poll periods, 10 minutes by default.
CONNECTED_POLL_FACTOR = 10


def poll_period(settings: AgentSettings, connected: bool) -> float:
    """Seconds between task-list polls: ``poll_s`` while the kick channel is down, rarer while it
    is up."""
    return settings.poll_s * CONNECTED_POLL_FACTOR if connected else settings.poll_s


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


async def pause_either(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    """``pause`` on two events: until either is set or ``seconds`` have passed."""
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
