"""A change to access waits until every other node has forgotten its cached keys and
principals, and no longer than ``CONFIRM_WAIT_S`` when one does not answer (two "nodes" on one
in-process bus here; tests/integration/test_nodes_access.py runs two servers on PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from openassist.server.bus import MemoryBus
from openassist.server.service import access_changes
from openassist.server.service.access_changes import CHANGED_TOPIC, AccessChanges


class SharedBus(MemoryBus):
    """One in-process bus that says how many other nodes listen."""

    def __init__(self, peers: int) -> None:
        super().__init__()
        self.others = peers

    async def peers(self) -> int:
        return self.others


class Node:
    def __init__(self, bus: SharedBus) -> None:
        self.forgotten = 0
        self.changes = AccessChanges(bus, self.forget)
        self.stop = self.changes.listen()

    def forget(self) -> None:
        self.forgotten += 1


def test_a_change_returns_once_the_other_node_has_forgotten() -> None:
    bus = SharedBus(peers=1)
    here, there = Node(bus), Node(bus)
    asyncio.run(here.changes.changed())
    assert (here.forgotten, there.forgotten) == (1, 1)


def test_a_node_that_does_not_confirm_holds_the_change_only_for_the_wait(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(access_changes, "CONFIRM_WAIT_S", 0.05)
    bus = SharedBus(peers=2)  # the second other node never answers
    here, there = Node(bus), Node(bus)
    with caplog.at_level(logging.WARNING):
        asyncio.run(here.changes.changed())
    assert (here.forgotten, there.forgotten) == (1, 1)
    assert "1 of 2 other node(s) did not confirm" in caplog.text


def test_a_wake_after_a_reconnect_forgets_without_confirming() -> None:
    bus = SharedBus(peers=1)
    confirmations: list[str] = []

    async def confirmed(_topic: str, payload: str) -> None:
        confirmations.append(payload)

    bus.subscribe(access_changes.FORGOTTEN_TOPIC, confirmed)
    there = Node(bus)
    asyncio.run(bus.publish(CHANGED_TOPIC, ""))
    assert (there.forgotten, confirmations) == (1, [])


def test_on_one_node_nothing_is_waited_for() -> None:
    bus = SharedBus(peers=0)
    here = Node(bus)
    asyncio.run(here.changes.changed())
    here.stop()
    assert here.forgotten == 1 and bus.topics() == []
