"""The bus between server nodes sharing one PostgreSQL database: LISTEN/NOTIFY, nothing more to
run.

Every node listens on one channel and filters by topic itself: topics are per agent and per
task, and a LISTEN per topic would cost a round trip per subscription. A node delivers its own
messages directly (and skips their echo), so its own agents never wait for the database.

Messages stay hints. While the listening connection is down, what others publish is lost; it is
opened again with a backoff, and then every local subscriber is woken once (agents fetch their
task list, result waiters re-read), so the gap costs at most a fetch, never the agent's poll.
Publishing is queued and sent in batches (one ``pg_notify`` statement per batch) by a task of
its own: a publisher never waits for the database, and a batch lost with its connection is only
lost hints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable

import psycopg

from openassist.server.bus.base import Handler
from openassist.server.bus.memory import MemoryBus

log = logging.getLogger(__name__)

CHANNEL = "openassist_bus"
LISTENER_PREFIX = "openassist-bus-listen-"  # application_name of each node's listening connection
WAKE = ""  # the payload subscribers get after the listening connection came back
MAX_PAYLOAD = 7900  # NOTIFY refuses payloads of 8000 bytes and more
MAX_BATCH = 1000  # messages per pg_notify statement
MAX_QUEUED = 100_000  # beyond this, while the database is unreachable, messages are dropped
RETRY_MIN_S, RETRY_MAX_S = 0.1, 5.0
# A peer that vanished without a reset (a cut network) is noticed by TCP keepalives: idle, interval
# (seconds), count.
KEEPALIVES = (10, 5, 3)


class PostgresBus:
    def __init__(self, url: str) -> None:
        """``url``: a libpq connection string or ``postgresql://`` URL (no SQLAlchemy driver)."""
        self._url = url
        self._node = secrets.token_hex(6)  # tells this node's echoes apart
        self._local = MemoryBus()
        self._outbox: asyncio.Queue[str] = asyncio.Queue(MAX_QUEUED)
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._deliveries: set[asyncio.Task[None]] = set()
        self.reconnects = 0  # how many times the listening connection was opened again

    @property
    def application_name(self) -> str:
        """The listening connection's application_name (what an operator sees in
        pg_stat_activity)."""
        return f"{LISTENER_PREFIX}{self._node}"

    async def start(self) -> None:
        """Open the listening connection; returns once it listens (raises if it cannot)."""
        listening = await self._connect(self.application_name)
        await listening.execute(f"LISTEN {CHANNEL}")
        self._tasks = [
            asyncio.create_task(self._listen(listening), name="bus-listen"),
            asyncio.create_task(self._send(), name="bus-send"),
        ]
        self._listening.set()

    async def publish(self, topic: str, payload: str) -> None:
        await self._local.publish(topic, payload)
        message = json.dumps([self._node, topic, payload], separators=(",", ":"))
        if len(message.encode()) > MAX_PAYLOAD:
            log.warning("bus message for %s too large for NOTIFY; sent to this node only", topic)
            return
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            log.warning(
                "bus queue full (the database is unreachable?); message for %s dropped", topic
            )

    async def peers(self) -> int:
        """The other nodes' listening connections to this database (by their application_name;
        0 when the database cannot be asked)."""
        try:
            async with await self._connect(f"openassist-bus-peers-{self._node}") as connection:
                cursor = await connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND application_name LIKE %s AND application_name <> %s",
                    (f"{LISTENER_PREFIX}%", self.application_name),
                )
                row = await cursor.fetchone()
        except (psycopg.Error, OSError) as error:
            log.warning("bus: cannot count the other nodes (%s)", error)
            return 0
        return int(row[0]) if row else 0  # type: ignore[call-overload]

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        return self._local.subscribe(topic, handler)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self._local.close()

    async def _connect(self, name: str) -> psycopg.AsyncConnection[tuple[object, ...]]:
        idle, interval, count = KEEPALIVES
        return await psycopg.AsyncConnection.connect(
            self._url,
            autocommit=True,
            application_name=name,
            keepalives=1,
            keepalives_idle=idle,
            keepalives_interval=interval,
            keepalives_count=count,
        )

    async def _listen(self, connection: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        attempt = 0
        while True:
            try:
                async with connection:
                    if attempt:
                        await connection.execute(f"LISTEN {CHANNEL}")
                        self.reconnects += 1
                        log.info("bus: listening again; waking every local subscriber")
                        await self._wake_all()
                    attempt = 0
                    async for note in connection.notifies():
                        await self._deliver(note.payload)
            except (psycopg.Error, OSError) as error:
                log.warning("bus: the listening connection failed (%s); opening it again", error)
            self._listening.clear()
            while True:
                await asyncio.sleep(min(RETRY_MAX_S, RETRY_MIN_S * 2**attempt))
                attempt += 1
                try:
                    connection = await self._connect(self.application_name)
                    break
                except (psycopg.Error, OSError) as error:
                    log.warning("bus: cannot reach the database to listen (%s)", error)

    async def _deliver(self, raw: str) -> None:
        try:
            node, topic, payload = json.loads(raw)
        except (ValueError, TypeError):
            log.warning("bus: ignored a message not in this release's format")
            return
        if node != self._node:  # this node's own were delivered when published
            # Not awaited here: one agent's full socket must not hold up everyone's kicks.
            delivery = asyncio.create_task(self._local.publish(str(topic), str(payload)))
            self._deliveries.add(delivery)
            delivery.add_done_callback(self._deliveries.discard)

    async def _wake_all(self) -> None:
        for topic in self._local.topics():
            await self._local.publish(topic, WAKE)

    async def _send(self) -> None:
        connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        try:
            while True:
                batch = [await self._outbox.get()]
                while len(batch) < MAX_BATCH and not self._outbox.empty():
                    batch.append(self._outbox.get_nowait())
                try:
                    if connection is None or connection.closed:
                        connection = await self._connect(f"openassist-bus-send-{self._node}")
                    await connection.execute(
                        "SELECT pg_notify(%s, message) FROM unnest(%s::text[]) AS message",
                        (CHANNEL, batch),
                    )
                except (psycopg.Error, OSError) as error:
                    log.warning("bus: %d message(s) not sent (%s)", len(batch), error)
                    await _close(connection)
                    connection = None
                    await asyncio.sleep(RETRY_MIN_S)
        finally:
            await _close(connection)


async def _close(connection: psycopg.AsyncConnection[tuple[object, ...]] | None) -> None:
    if connection is not None:
        with contextlib.suppress(psycopg.Error, OSError):
            await connection.close()
