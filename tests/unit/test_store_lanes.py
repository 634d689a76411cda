"""The store's API lane (issue 20) on a real store, both backends: while the agents' work queues
for the database threads, an API caller's reads and writes are taken first."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select
from starlette.types import Message, Receive, Scope, Send

from openassist.server.app import ApiLane
from openassist.server.monitoring.metrics import ServerMetrics
from openassist.server.service.clock import SystemClock
from openassist.server.service.replay import StoreReplayGuard
from openassist.server.store.db import Database
from openassist.server.store.lanes import LaneExecutor, api_lane, in_api_lane
from openassist.server.store.schema.request_guards import replay_marks
from tests.support.cluster import postgres_admin_url, temporary_postgres_database

HOUR_MS = 3_600_000


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """One reader and one writer thread on either backend: what queues is then plain."""
    if request.param == "postgres" and not postgres_admin_url():
        pytest.skip("OPENASSIST_TEST_POSTGRES_URL is not set")
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(temporary_postgres_database())
        else:
            url = f"sqlite:///{tmp_path / 'store.db'}"
        database = Database(url, readers=1)
        stack.callback(database.close)
        database.migrate()
        yield database


async def _queued(executor: LaneExecutor, count: int) -> None:
    deadline = time.monotonic() + 10
    while executor.queued() < count:
        assert time.monotonic() < deadline, "the work never queued"
        await asyncio.sleep(0.005)


async def _behind_busy_thread(
    executor: LaneExecutor,
    occupy: Callable[[Callable[[Connection], object]], Awaitable[object]],
    queue: Callable[[], list[asyncio.Task[object]]],
) -> None:
    """Occupy the executor's one thread, let ``queue`` submit its work meanwhile, then let
    the thread go and wait for all of it."""
    started, gate = threading.Event(), threading.Event()

    def hold(_conn: Connection) -> bool:
        started.set()
        return gate.wait(10)

    busy = asyncio.ensure_future(occupy(hold))
    deadline = time.monotonic() + 10
    while not started.is_set():
        assert time.monotonic() < deadline, "the thread never took the first work"
        await asyncio.sleep(0.005)
    tasks = queue()
    await _queued(executor, len(tasks))
    gate.set()
    await asyncio.gather(busy, *tasks)


def test_an_api_write_is_taken_before_the_agents_queued_writes(db: Database) -> None:
    order: list[str] = []
    waits: list[tuple[str, str]] = []
    db.observe_wait = lambda kind, lane, _seconds: waits.append((kind, lane))

    def step(name: str) -> Callable[[Connection], None]:
        return lambda _conn: order.append(name)

    def queue() -> list[asyncio.Task[object]]:
        tasks = [asyncio.ensure_future(db.write(step(f"agent-{n}"))) for n in range(3)]
        with api_lane():
            tasks.append(asyncio.ensure_future(db.write(step("api"))))
        return tasks  # type: ignore[return-value]

    asyncio.run(_behind_busy_thread(db.write_executor, db.write, queue))
    assert order == ["api", "agent-0", "agent-1", "agent-2"]
    # What /metrics shows (openassist_db_wait_seconds): each wait, by kind and lane.
    assert sorted(waits) == [("write", "agents")] * 4 + [("write", "api")]


def test_an_api_read_is_taken_before_the_agents_queued_reads(db: Database) -> None:
    order: list[str] = []

    def step(name: str) -> Callable[[Connection], None]:
        return lambda _conn: order.append(name)

    def queue() -> list[asyncio.Task[object]]:
        tasks = [asyncio.ensure_future(db.read(step(f"agent-{n}"))) for n in range(3)]
        with api_lane():
            tasks.append(asyncio.ensure_future(db.read(step("api"))))
        return tasks  # type: ignore[return-value]

    asyncio.run(_behind_busy_thread(db.read_executor, db.read, queue))
    assert order == ["api", "agent-0", "agent-1", "agent-2"]


def test_an_api_replay_mark_is_committed_before_the_agents_queued_writes(db: Database) -> None:
    """The API's guard writes its marks in the API lane although a task of its own (outside
    any request) writes them: the agents' write queued first sees the mark already stored."""
    guard = StoreReplayGuard(db, SystemClock(), api=True)
    seen: list[int] = []

    def count_marks(conn: Connection) -> None:
        seen.append(int(conn.scalar(select(func.count()).select_from(replay_marks)) or 0))

    def queue() -> list[asyncio.Task[object]]:
        return [
            asyncio.ensure_future(db.write(count_marks)),
            asyncio.ensure_future(guard.first_use("api:key", "nonce-1", HOUR_MS)),
        ]

    asyncio.run(_behind_busy_thread(db.write_executor, db.write, queue))
    assert seen == [1]


def test_the_api_listener_runs_its_requests_in_the_api_lane() -> None:
    lanes: list[bool] = []

    async def app(_scope: Scope, _receive: Receive, _send: Send) -> None:
        lanes.append(in_api_lane())

    async def receive() -> Message:
        return {"type": "http.request"}

    async def send(_message: Message) -> None:
        return None

    async def main() -> None:
        await ApiLane(app)({"type": "http"}, receive, send)
        lanes.append(in_api_lane())  # and only inside it

    asyncio.run(main())
    assert lanes == [True, False]


def test_the_loop_lag_probe_sees_a_blocked_event_loop() -> None:
    metrics = ServerMetrics()

    async def main() -> None:
        watch = asyncio.create_task(metrics.watch_loop_lag(0.01))
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # a callback that holds the loop: every timer is late meanwhile
        await asyncio.sleep(0.05)
        watch.cancel()

    asyncio.run(main())
    sample = metrics.registry.get_sample_value
    total = sample("openassist_event_loop_lag_seconds_count") or 0
    in_time = sample("openassist_event_loop_lag_seconds_bucket", {"le": "0.25"}) or 0
    assert total - in_time >= 1  # at least one wake-up more than 0.25 s late


def test_work_queued_before_shutdown_still_runs() -> None:
    executor = LaneExecutor(1, thread_name_prefix="test-lanes")
    gate = threading.Event()
    executor.submit(gate.wait, 10)
    later = [executor.submit(lambda n=n: n) for n in range(3)]
    gate.set()
    executor.shutdown(wait=True)
    assert [future.result(0) for future in later] == [0, 1, 2]
    with pytest.raises(RuntimeError):
        executor.submit(lambda: 0)


def test_run_answers_on_the_loop_and_skips_work_cancelled_before_it_started() -> None:
    """``run`` (the store's hop, one future): a value, an error, and a cancelled wait whose
    work had not started yet, which then never runs, as with ``run_in_executor``."""
    executor = LaneExecutor(1, thread_name_prefix="test-lanes")
    started, gate = threading.Event(), threading.Event()
    ran: list[str] = []

    def hold() -> bool:
        started.set()
        return gate.wait(10)

    def boom() -> None:
        raise ValueError("boom")

    async def main() -> None:
        assert await executor.run(lambda: 7) == 7
        with pytest.raises(ValueError, match="boom"):
            await executor.run(boom)
        busy = executor.run(hold)
        assert await asyncio.to_thread(started.wait, 10)
        cancelled = executor.run(lambda: ran.append("cancelled"))
        later = executor.run(lambda: ran.append("later"))
        cancelled.cancel()
        gate.set()
        assert await busy
        await later

    asyncio.run(main())
    executor.shutdown(wait=True)
    assert ran == ["later"]


def test_work_whose_loop_closed_meanwhile_leaves_the_thread_working() -> None:
    executor = LaneExecutor(1, thread_name_prefix="test-lanes")
    started, gate = threading.Event(), threading.Event()

    def hold() -> bool:
        started.set()
        return gate.wait(10)

    async def leave() -> None:
        executor.run(hold)  # never awaited: asyncio.run closes the loop before it ends
        assert await asyncio.to_thread(started.wait, 10)

    asyncio.run(leave())
    gate.set()  # its answer now has no loop to go to

    async def again() -> int:
        return await asyncio.wait_for(executor.run(lambda: 8), 10)

    assert asyncio.run(again()) == 8
    executor.shutdown(wait=True)
