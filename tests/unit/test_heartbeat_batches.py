"""Heartbeats of many agents written together (issue 20), on a real SQLite store: one
transaction for a batch instead of one per heartbeat, each as if written in turn."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Connection

from openassist.server.bus.memory import MemoryBus
from openassist.server.service.clock import SystemClock
from openassist.server.service.context import Limits, ServiceContext
from openassist.server.service.fleet import FleetService
from openassist.server.service.heartbeats import Beat, HeartbeatWriter
from openassist.server.store import fleet
from openassist.server.store.db import Database
from openassist.server.store.records import AgentState, Instance
from tests.support.store import registered_instance

AGENTS = 200


def _instance(number: int) -> Instance:
    return registered_instance(
        f"mi-{number:04d}", name=f"sim-{number}", hostname="sim", boot_id="boot-1"
    )


def _context(tmp_path: Path) -> tuple[ServiceContext, list[str]]:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.migrate()
    kinds: list[str] = []
    db.observe = lambda kind, _seconds: kinds.append(kind)
    context = ServiceContext(db=db, bus=MemoryBus(), clock=SystemClock(), limits=Limits())
    return context, kinds


def test_concurrent_heartbeats_share_one_write_and_each_is_recorded(tmp_path: Path) -> None:
    context, kinds = _context(tmp_path)
    service = FleetService(context)

    async def main() -> list[Instance | None]:
        def insert(conn: Connection) -> None:
            for number in range(AGENTS):
                fleet.insert_instance(conn, _instance(number))

        await context.db.write(insert)
        kinds.clear()
        await asyncio.gather(
            *(
                service.heartbeat(f"mi-{n:04d}", agent_version=f"1.{n}", boot_id="boot-1")
                for n in range(AGENTS)
            )
        )
        return [await service.instance(f"mi-{n:04d}") for n in range(AGENTS)]

    try:
        found = asyncio.run(main())
    finally:
        context.db.close()
    assert kinds.count("write") == 1  # one per heartbeat before: 200
    for number, instance in enumerate(found):
        assert instance is not None
        assert instance.agent_version == f"1.{number}"
        assert instance.last_heartbeat_at is not None


def test_a_goodbye_after_a_heartbeat_in_one_batch_keeps_the_last_sign_of_life(
    tmp_path: Path,
) -> None:
    context, _kinds = _context(tmp_path)
    service = FleetService(context)

    async def main() -> Instance | None:
        await context.db.write(lambda conn: fleet.insert_instance(conn, _instance(1)))
        await asyncio.gather(
            service.heartbeat("mi-0001", agent_version="2.0", boot_id="boot-1"),
            service.heartbeat("mi-0001", agent_version="2.0", boot_id="boot-1", goodbye="stopped"),
        )
        return await service.instance("mi-0001")

    try:
        instance = asyncio.run(main())
    finally:
        context.db.close()
    assert instance is not None
    assert instance.agent_state is AgentState.STOPPED
    assert instance.last_heartbeat_at is not None  # from the first, not cleared by the goodbye


def test_a_heartbeat_that_changes_the_agent_state_is_written_without_lingering(
    tmp_path: Path,
) -> None:
    """An agent that called its upgrade off says so with a plain heartbeat: the server must take
    tasks for it again at once, not after the batch's linger (ClientIsUpgrading meanwhile). The
    linger here is an hour, so only a write that does not wait for it can finish."""
    context, _kinds = _context(tmp_path)
    writer = HeartbeatWriter(context, linger_s=3600)

    async def main() -> list[AgentState]:
        await context.db.write(lambda conn: fleet.insert_instance(conn, _instance(1)))
        states = []
        for state in (AgentState.UPGRADING, AgentState.RUNNING, AgentState.STOPPED):
            beat = Beat("mi-0001", 1, {"agent_state": state}, "boot-1")
            await asyncio.wait_for(writer.record(beat), 30)
            instance = await context.db.read(lambda conn: fleet.get_instance(conn, "mi-0001"))
            assert instance is not None
            states.append(instance.agent_state)
        return states

    try:
        states = asyncio.run(main())
    finally:
        context.db.close()
    assert states == [AgentState.UPGRADING, AgentState.RUNNING, AgentState.STOPPED]
