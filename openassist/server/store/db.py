"""Opening the database and running transactions off the event loop.

Each unit of work is a plain function on a SQLAlchemy ``Connection`` that runs whole in a worker
thread: one thread hop per transaction instead of one per statement (measured here: a
five-statement transaction takes 0.36 ms this way against 2.9 ms through aiosqlite). SQLite
writes go through a single writer thread, so they never contend for the file lock; reads run
beside it (WAL). This module is where dialect differences live (principle 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import queue
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url

from openassist.errors import ConfigurationError
from openassist.server.store.group_commit import GroupCommit
from openassist.server.store.lanes import LaneExecutor, settle_from_thread
from openassist.server.store.revisions import restamp_renumbered

_MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")
# Told each transaction's kind ("read" or "write") and its duration in seconds (for metrics).
TransactionObserver = Callable[[str, float], None]
_CHANGED_TASKS = "openassist.changed_tasks"  # key in Connection.info

TasksChanged = Callable[[frozenset[str]], Awaitable[None]]
_RELEASED_ROWS = "openassist.released_rows"  # key in Connection.info
# Told after a commit the (instance id, invoke id, due at ms) of rows a rollout released (to
# wake their agents when they are due).
Released = tuple[str, str, int]
RowsReleased = Callable[[frozenset[Released]], Awaitable[None]]


def note_task_changed(conn: Connection, invoke_id: str) -> None:
    """Say, inside a transaction, that a result of ``invoke_id`` changed: once it commits,
    ``Database.on_tasks_changed`` hears of it (waiters are woken after the commit, so what they
    read is there)."""
    conn.info.setdefault(_CHANGED_TASKS, set()).add(invoke_id)


def note_released(conn: Connection, instance_id: str, invoke_id: str, due_at: int) -> None:
    """Say, inside a transaction, that a held row may be handed out from ``due_at`` (ms): once
    it commits, ``Database.on_released`` hears of it (and wakes the instance's agent then)."""
    conn.info.setdefault(_RELEASED_ROWS, set()).add((instance_id, invoke_id, due_at))


def _normalise(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite+aiosqlite://"):
        url = "sqlite://" + url.removeprefix("sqlite+aiosqlite://")
    return url


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; NORMAL keeps every commit across a process
    # crash (kill -9), which is the failure we design for, without an fsync per commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _create_private(database: str) -> None:
    """Create the SQLite file owner-only before SQLite opens it; SQLite then gives its -wal and
    -shm files the same mode."""
    if database and database != ":memory:" and not database.startswith("file:"):
        with contextlib.suppress(FileExistsError):
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# Work to add to the next write transaction of the current task: an audit event rides the change
# it records, so the two commit or roll back together.
Rider = Callable[[Connection], None]
_RIDERS: ContextVar[list[Rider] | None] = ContextVar("openassist_write_riders", default=None)


def ride_next_write(rider: Rider) -> list[Rider]:
    """Arm ``rider`` for this task's next write; the returned list is empty once it rode."""
    riders = [rider]
    _RIDERS.set(riders)
    return riders


def disarm_riders() -> None:
    _RIDERS.set(None)


class _Rollback(Exception):
    """Ends a unit of work's transaction without committing it."""


_COMMIT, _ROLLBACK = object(), object()


class UnitOfWork:
    """One transaction that several awaited steps share (``Database.unit``).

    The transaction starts at the first write and holds one writer thread until the unit ends:
    each step is handed to that thread and runs on the unit's connection, so a later read sees
    the unit's own writes. Work to do after the commit (bus kicks, which would send an agent to
    fetch rows not yet visible) is collected with ``after_commit``.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._steps: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._transaction: asyncio.Future[None] | None = None
        self._after: list[Callable[[], Awaitable[None]]] = []
        self.changed_tasks: frozenset[str] = frozenset()  # noted by its steps, told after commit
        self.released_rows: frozenset[Released] = frozenset()
        self.closed = False

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        self._after.append(action)

    def _hold(self) -> None:
        """The writer thread's side: run steps on one connection until commit or rollback."""
        with contextlib.suppress(_Rollback), self.db.engine.begin() as connection:
            if self.db.is_sqlite:
                # pysqlite opens a transaction only before its first DML statement, so the
                # first step's SAVEPOINT would start one of its own and its RELEASE commit it.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.info.pop(_CHANGED_TASKS, None)  # what a rolled-back checkout left
            connection.info.pop(_RELEASED_ROWS, None)
            while True:
                step = self._steps.get()
                if step is _COMMIT:
                    self.changed_tasks = frozenset(connection.info.pop(_CHANGED_TASKS, ()))
                    self.released_rows = frozenset(connection.info.pop(_RELEASED_ROWS, ()))
                    return
                if step is _ROLLBACK:
                    raise _Rollback
                work, loop, done = step
                try:
                    # A savepoint per step: a step that raises leaves nothing behind, as a
                    # transaction of its own would.
                    with connection.begin_nested():
                        result = work(connection)
                except BaseException as error:
                    settle_from_thread(loop, done, None, error)
                else:
                    settle_from_thread(loop, done, result)

    async def run(self, work: Callable[[Connection], T]) -> T:
        if self._transaction is None:
            self._transaction = self.db._writer.run(self._hold)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._steps.put((work, loop, done))
        return await done

    async def _end(self, commit: bool) -> None:
        self.closed = True  # a task spawned inside the unit writes on its own from now on
        if self._transaction is None:
            return
        self._steps.put(_COMMIT if commit else _ROLLBACK)
        await self._transaction

    async def _run_after_commit(self) -> None:
        for action in self._after:
            await action()


_UNIT: ContextVar[UnitOfWork | None] = ContextVar("unit_of_work", default=None)


def current_unit() -> UnitOfWork | None:
    """The unit of work the running task is inside, if any."""
    return _UNIT.get()


class Database:
    """The store's engine plus the threads that run its transactions."""

    def __init__(self, url: str, readers: int = 4) -> None:
        url = _normalise(url)
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _create_private(make_url(url).database or "")
            self.engine: Engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=readers + 1
            )
            event.listen(self.engine, "connect", _tune_sqlite)
            writers = 1
        elif url.startswith("postgresql"):
            if importlib.util.find_spec("psycopg") is None:
                raise ConfigurationError(
                    "the database URL names PostgreSQL but psycopg is not installed: "
                    "pip install 'openassist[postgres]'"
                )
            self.engine = create_engine(url, pool_size=readers * 2, pool_pre_ping=True)
            writers = readers
        else:
            raise ConfigurationError(f"unsupported database URL scheme {url.split(':', 1)[0]!r}")
        # Work for API callers is taken before the agents' (store/lanes.py).
        self._writer = LaneExecutor(writers, "db-write", lambda *w: self._waited("write", *w))
        self._reader = LaneExecutor(readers, "db-read", lambda *w: self._waited("read", *w))
        self.observe: TransactionObserver | None = None
        # Told how long work waited for a thread: kind ("read" or "write"), lane, seconds.
        self.observe_wait: Callable[[str, str, float], None] | None = None
        self.on_tasks_changed: TasksChanged | None = None
        self.on_released: RowsReleased | None = None
        # PostgreSQL takes concurrent transactions: batches in flight at once overlap their round
        # trips and commit flushes (store path, 1,000 agents: 80-240 -> 140-327 results/s with 3
        # of 4 writer threads). One thread is left for the other writes (API callers). Stalls of
        # the kill -9 claims test once blamed on this were lost hand-outs waiting for the agent's
        # 10-minute poll (see service/sweeps.py, redelivery kicks).
        self.grouped = GroupCommit(self, writers=max(1, writers - 1))

    def _waited(self, kind: str, lane: str, seconds: float) -> None:
        if self.observe_wait is not None:
            self.observe_wait(kind, lane, seconds)

    @property
    def write_executor(self) -> LaneExecutor:
        return self._writer

    @property
    def read_executor(self) -> LaneExecutor:
        return self._reader

    @staticmethod
    def forget_notes(connection: Connection) -> None:
        """Connection.info outlives the checkout: drop what a rolled-back one left."""
        connection.info.pop(_CHANGED_TASKS, None)
        connection.info.pop(_RELEASED_ROWS, None)

    @staticmethod
    def take_notes(connection: Connection) -> tuple[frozenset[str], frozenset[Released]]:
        """What the transaction noted (``note_task_changed``, ``note_released``), to announce
        after its commit."""
        changed = frozenset(connection.info.pop(_CHANGED_TASKS, ()))
        return changed, frozenset(connection.info.pop(_RELEASED_ROWS, ()))

    @contextlib.asynccontextmanager
    async def unit(self) -> AsyncIterator[UnitOfWork]:
        """Every ``write`` (and, once one ran, every ``read``) inside the block shares one
        transaction, committed when the block ends and rolled back when it raises. A step that
        raises leaves the transaction open for the block to decide; a failed commit raises."""
        unit = UnitOfWork(self)
        token = _UNIT.set(unit)
        try:
            yield unit
        except BaseException:
            _UNIT.reset(token)
            await asyncio.shield(unit._end(commit=False))
            raise
        _UNIT.reset(token)
        await unit._end(commit=True)
        await self.announce(unit.changed_tasks, unit.released_rows)
        await unit._run_after_commit()

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction (committed when it returns, rolled back if it raises),
        or in the unit of work the caller is inside. Riders armed in this task
        (``ride_next_write``) run in the same transaction, once."""
        riders = _RIDERS.get()
        taken = list(riders) if riders else []
        if riders:
            riders.clear()

        def with_riders(connection: Connection) -> T:
            result = work(connection)
            for rider in taken:
                rider(connection)
            return result

        unit = _UNIT.get()
        if unit is not None and unit.db is self and not unit.closed:
            try:
                return await unit.run(with_riders)
            except BaseException:
                if riders is not None:
                    riders.extend(taken)  # the step rolled back: they ride the next write
                raise

        def transaction() -> tuple[T, frozenset[str], frozenset[Released]]:
            started = time.perf_counter()
            try:
                with self.engine.begin() as connection:
                    self.forget_notes(connection)
                    result = with_riders(connection)
                    changed, released = self.take_notes(connection)
                return result, changed, released
            finally:
                if self.observe is not None:
                    self.observe("write", time.perf_counter() - started)

        try:
            result, changed, released = await self._writer.run(transaction)
        except BaseException:
            if riders is not None:
                riders.extend(taken)  # rolled back: they ride the next write, or none
            raise
        await self.announce(changed, released)
        return result

    async def write_grouped(self, work: Callable[[Connection], T], lock_order: str = "") -> T:
        """As ``write``, but ``work`` may share its transaction with the writes that arrive
        while another is in flight (group commit, ``store/group_commit.py``): for many small
        independent writes at once, such as agent reports and claims. ``lock_order``: the key
        of the shared row ``work`` locks, if any (see ``GroupCommit``). Inside a unit of work,
        or with riders armed, it is a plain ``write``."""
        unit = _UNIT.get()
        if _RIDERS.get() or (unit is not None and unit.db is self and not unit.closed):
            return await self.write(work)
        return await self.grouped.write(work, lock_order)

    async def announce(self, changed: frozenset[str], released: frozenset[Released]) -> None:
        """After a commit: wake result waiters, and the agents of rows a rollout released."""
        if changed and self.on_tasks_changed is not None:
            await self.on_tasks_changed(changed)
        if released and self.on_released is not None:
            await self.on_released(released)

    async def read(self, work: Callable[[Connection], T]) -> T:
        unit = _UNIT.get()
        if unit is not None and unit.db is self and unit._transaction and not unit.closed:
            return await unit.run(work)  # sees the unit's own writes

        def snapshot() -> T:
            started = time.perf_counter()
            try:
                with self.engine.connect() as connection:
                    return work(connection)
            finally:
                if self.observe is not None:
                    self.observe("read", time.perf_counter() - started)

        return await self._reader.run(snapshot)

    @staticmethod
    def head_revisions() -> set[str]:
        """The newest migration(s) this release ships: what a current database is stamped with."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        return set(ScriptDirectory.from_config(config).get_heads())

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent; blocking, run at start-up)."""
        with self.engine.begin() as connection:
            restamp_renumbered(connection)
            config = Config()
            config.set_main_option("script_location", str(_MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def analyze(self, connection: Connection) -> None:
        """Refresh the planner's statistics (SQLite keeps none until told; PostgreSQL's
        autovacuum keeps its own). Bounded: SQLite reads at most ~1,000 rows of each index, a
        few milliseconds however large the store."""
        if self.is_sqlite:
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")

    def optimize(self) -> None:
        """``analyze`` in a transaction of its own (blocking, run at start-up)."""
        with self.engine.begin() as connection:
            self.analyze(connection)

    def scrub(self) -> None:
        """After rows holding plain-text secrets were rewritten: leave no old copy on disk.
        SQLite keeps old page images in free pages and in its WAL; VACUUM rewrites the file and
        the checkpoint empties the WAL. (PostgreSQL keeps dead row versions in its own files,
        readable only by its server's user; ``VACUUM FULL`` rewrites them.) Blocking."""
        if not self.is_sqlite:
            return
        with self.engine.connect() as conn:
            autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql("VACUUM")
            autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)
        self.engine.dispose()
