"""The PostgreSQL bus between two nodes' buses on a real database: messages cross, a node hears
its own once, a dropped listening connection is opened again and wakes its subscribers, and the
result waiters' wake-up crosses too (the server-level proof: test_nodes)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest

from openassist.errors import ConfigurationError
from openassist.server.bus.postgres import WAKE, PostgresBus
from openassist.server.service.result_waits import results_topic
from openassist.server.settings import load_server_settings
from tests.support.cluster import postgres_admin_url, temporary_postgres_database

needs_postgres = pytest.mark.skipif(
    not postgres_admin_url(), reason="the PostgreSQL bus needs a PostgreSQL server"
)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with temporary_postgres_database() as url:
        yield url


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.arrived = asyncio.Event()

    async def handler(self, topic: str, payload: str) -> None:
        self.messages.append((topic, payload))
        self.arrived.set()

    async def count(self, n: int) -> tuple[str, str]:
        """The ``n``th message, once it arrived."""
        async with asyncio.timeout(20):
            while len(self.messages) < n:
                self.arrived.clear()
                await self.arrived.wait()
        return self.messages[n - 1]


@needs_postgres
def test_a_message_crosses_once_and_a_node_hears_its_own_once(database: str) -> None:
    async def main() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        a, b = PostgresBus(database), PostgresBus(database)
        await a.start()
        await b.start()
        on_a, on_b = Inbox(), Inbox()
        a.subscribe("kick:i-1", on_a.handler)
        b.subscribe("kick:i-1", on_b.handler)
        b.subscribe("kick:i-2", on_b.handler)
        try:
            await a.publish("kick:i-1", "t-1")
            await on_b.count(1)
            await a.publish("kick:i-2", "t-2")  # nobody on A listens: B still hears it
            await on_b.count(2)
            await b.publish("kick:i-1", "t-3")
            await on_a.count(2)
            # An echo of A's own first message would have arrived before B's (one channel,
            # sent in order): A heard t-1 once, directly, and t-3 from B.
        finally:
            await a.close()
            await b.close()
        return on_a.messages, on_b.messages

    on_a, on_b = asyncio.run(main())
    assert on_a == [("kick:i-1", "t-1"), ("kick:i-1", "t-3")]
    assert on_b == [("kick:i-1", "t-1"), ("kick:i-2", "t-2"), ("kick:i-1", "t-3")]


@needs_postgres
def test_a_dropped_listening_connection_is_opened_again_and_wakes_subscribers(
    database: str,
) -> None:
    async def main() -> tuple[int, list[tuple[str, str]]]:
        a, b = PostgresBus(database), PostgresBus(database)
        await a.start()
        await b.start()
        inbox = Inbox()
        b.subscribe(results_topic("t-9"), inbox.handler)
        try:
            async with await psycopg.AsyncConnection.connect(database, autocommit=True) as admin:
                cursor = await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (b.application_name,),
                )
                assert [row[0] for row in await cursor.fetchall()] == [True]
            # What was published while B was not listening is lost; B says so by waking its
            # subscribers once it listens again.
            assert await inbox.count(1) == (results_topic("t-9"), WAKE)
            await a.publish(results_topic("t-9"), "t-9")
            await inbox.count(2)
        finally:
            await a.close()
            await b.close()
        return b.reconnects, inbox.messages

    reconnects, messages = asyncio.run(main())
    assert reconnects == 1
    assert messages[-1] == (results_topic("t-9"), "t-9")


def test_the_bus_setting_is_checked() -> None:
    assert load_server_settings({}).bus_url == ""  # SQLite: in-process
    on_postgres = {"OPENASSIST_DATABASE_URL": "postgresql+psycopg://u@db:5432/oa?sslmode=require"}
    assert load_server_settings(on_postgres).bus_url == "postgresql://u@db:5432/oa?sslmode=require"
    memory = {**on_postgres, "OPENASSIST_BUS": "memory"}
    assert load_server_settings(memory).bus_url == ""
    with pytest.raises(ConfigurationError, match="needs a PostgreSQL database_url"):
        load_server_settings({"OPENASSIST_BUS": "postgres"})
    with pytest.raises(ConfigurationError, match="is not auto, postgres or memory"):
        load_server_settings({"OPENASSIST_BUS": "redis"})
