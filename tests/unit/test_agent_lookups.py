"""The agent gateway's cached look-ups (issue 20): an idle agent's calls, a minute apart, read
the store once per cache period, not once per call; a rename or deregistration is told on the
bus and seen on the next call. A real store on both backends, the in-process bus."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from openassist.server.bus.memory import MemoryBus
from openassist.server.gateway.lookups import INSTANCE_CACHE_TTL_S, AgentLookups
from openassist.server.service.clock import SystemClock
from openassist.server.service.context import Limits, ServiceContext
from openassist.server.service.fleet import FleetService
from openassist.server.store import fleet
from openassist.server.store.db import Database
from openassist.server.store.records import Instance, RegistrationState
from tests.support.cluster import postgres_admin_url
from tests.support.store import opened_database, registered_instance

CALLS = 12


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres" and not postgres_admin_url():
        pytest.skip("OPENASSIST_TEST_POSTGRES_URL is not set")
    with opened_database(request.param, tmp_path, migrated=True) as database:
        yield database


def test_calls_a_minute_apart_read_the_store_once_per_cache_period(db: Database) -> None:
    reads: list[str] = []
    db.observe = lambda kind, _seconds: reads.append(kind)
    context = ServiceContext(db=db, bus=MemoryBus(), clock=SystemClock(), limits=Limits())
    now = [1000.0]
    lookups = AgentLookups(FleetService(context), context.bus, clock=lambda: now[0])

    async def calls(count: int) -> None:
        for _ in range(count):
            instance = await lookups.instance("mi-0001")
            assert instance is not None
            assert await lookups.access_allowed(instance, "127.0.0.1")
            now[0] += 60  # an idle agent's heartbeat period

    async def main() -> None:
        def insert(conn: Connection) -> None:
            fleet.insert_instance(
                conn, registered_instance("mi-0001", name="before", hostname="host")
            )

        await db.write(insert)
        reads.clear()
        await calls(CALLS)

    asyncio.run(main())
    # The instance once per cache period (no activation to look up); once per call before.
    periods = -(-CALLS * 60 // int(INSTANCE_CACHE_TTL_S))
    assert reads.count("read") == periods < CALLS


def test_a_rename_and_a_deregistration_are_seen_on_the_next_call(db: Database) -> None:
    context = ServiceContext(db=db, bus=MemoryBus(), clock=SystemClock(), limits=Limits())
    service = FleetService(context)
    lookups = AgentLookups(service, context.bus)

    async def main() -> tuple[Instance | None, Instance | None]:
        def insert(conn: Connection) -> None:
            fleet.insert_instance(
                conn, registered_instance("mi-0001", name="before", hostname="host")
            )

        await db.write(insert)
        first = await lookups.instance("mi-0001")
        assert first is not None and first.name == "before"
        await service.rename("mi-0001", "after")
        renamed = await lookups.instance("mi-0001")
        await service.deregister("mi-0001")
        return renamed, await lookups.instance("mi-0001")

    renamed, deregistered = asyncio.run(main())
    assert renamed is not None and renamed.name == "after"
    assert deregistered is not None
    assert deregistered.registration_state is RegistrationState.DEREGISTERED


def test_a_look_up_under_way_while_the_instance_changes_is_not_cached(db: Database) -> None:
    """The change may have committed after the look-up read the row: its answer is not kept."""
    context = ServiceContext(db=db, bus=MemoryBus(), clock=SystemClock(), limits=Limits())
    service = FleetService(context)
    lookups = AgentLookups(service, context.bus)

    async def main() -> Instance | None:
        def insert(conn: Connection) -> None:
            fleet.insert_instance(
                conn, registered_instance("mi-0001", name="before", hostname="host")
            )

        await db.write(insert)
        under_way = asyncio.create_task(lookups.instance("mi-0001"))
        await asyncio.sleep(0)  # the look-up has started and waits for the store
        lookups.forget("mi-0001")  # as a bus message would, meanwhile
        await under_way

        def rename(conn: Connection) -> None:
            fleet.rename_instance(conn, "mi-0001", "renamed behind the cache's back")

        await db.write(rename)  # no bus message: only a fresh read sees it
        return await lookups.instance("mi-0001")

    found = asyncio.run(main())
    assert found is not None and found.name == "renamed behind the cache's back"
