"""The agent's task-list poll (issue 20): every ``poll_s`` while its kick channel is down, ten
times rarer while it is up (kicks say when to fetch; the poll only catches a lost one), and the
channel going down brings a poll that fell due forward at once."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from openassist.agent import keys
from openassist.agent.channel import Channel
from openassist.agent.identity import CA_FILE, Identity
from openassist.agent.kicks import KickChannel
from openassist.agent.settings import CONNECTED_POLL_FACTOR, AgentSettings, poll_period
from openassist.server.gateway.tls import ensure_tls

POLL_S = 100.0  # far beyond anything a test below waits for
SETTLE = 20  # loop iterations given to a waiter that has nothing to wait for


@pytest.fixture
def kicks(tmp_path: Path) -> KickChannel:
    """A kick channel that is never opened: the tests set its state themselves."""
    state = tmp_path / "agent"
    state.mkdir()
    shutil.copy(ensure_tls(tmp_path / "tls").ca_cert, state / CA_FILE)
    (state / "instance.key").write_bytes(keys.private_pem(keys.new_key()))
    identity = Identity("mi-1", "machine", "127.0.0.1", 9, "local", state, ())
    settings = AgentSettings(poll_s=POLL_S)
    return KickChannel(Channel(identity, boot="boot"), settings)


async def _settled(waiter: asyncio.Task[None]) -> bool:
    """Whether ``waiter`` ends once the loop has run everything ready to run."""
    for _ in range(SETTLE):
        await asyncio.sleep(0)
    return waiter.done()


def test_the_poll_is_ten_times_rarer_while_the_channel_is_up() -> None:
    settings = AgentSettings(poll_s=60)
    assert poll_period(settings, connected=False) == 60
    assert poll_period(settings, connected=True) == 60 * CONNECTED_POLL_FACTOR == 600


def test_a_poll_due_for_a_channel_that_is_down_waits_while_it_is_up(kicks: KickChannel) -> None:
    async def scenario() -> None:
        since = time.monotonic() - 2 * POLL_S  # a poll period and more ago
        kicks.up = False
        assert await _settled(asyncio.create_task(kicks.until_fetch(since)))
        kicks.up = True
        waiter = asyncio.create_task(kicks.until_fetch(since))
        assert not await _settled(waiter)  # due only CONNECTED_POLL_FACTOR periods after
        kicks.kicked.set()  # a kick fetches at once
        assert await _settled(waiter)

    asyncio.run(scenario())


def test_the_channel_going_down_brings_the_poll_forward(kicks: KickChannel) -> None:
    async def scenario() -> None:
        kicks._set_up(True)
        waiter = asyncio.create_task(kicks.until_fetch(time.monotonic() - 2 * POLL_S))
        assert not await _settled(waiter)
        kicks._set_up(False)  # its poll_s is long past: fetch now, not 10 periods later
        assert await _settled(waiter)

    asyncio.run(scenario())


def test_a_retry_after_a_failed_fetch_keeps_its_own_delay(kicks: KickChannel) -> None:
    async def scenario() -> None:
        kicks.up = True
        past = time.monotonic() - 1
        assert await _settled(asyncio.create_task(kicks.until_fetch(past, retry_s=0.5)))

    asyncio.run(scenario())
