"""Two lanes into the database threads: work done for an API caller is taken before work done
for agents.

During a fan-out to thousands of agents the gateway keeps the store's threads busy: a queue of
reads (instance look-ups, task lists) in front of the readers and of writes (reports, claims,
replay marks) in front of the single SQLite writer. Measured with 1,000 agents (issue 20), an
API call waited up to 0.6 s for a reader and 0.7 s for its replay mark behind that queue, for
a few milliseconds of its own work. Here the store's executors take work in lane order, then
arrival order: an API call waits at most for the transactions already running, never for the
agents' queue. Which lane a piece of work is in is the context of whoever submits it
(``api_lane``, set around each request of the API listener), so the services and the store
need not pass it along.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextvars import ContextVar
from time import perf_counter
from typing import Any, TypeVar

T = TypeVar("T")

API, AGENTS = 0, 1  # lanes, the one taken first first
LANE_NAMES = ("api", "agents")
# Told the lane's name and how long a piece of work waited for a thread, in seconds.
WaitObserver = Callable[[str, float], None]
_LANE: ContextVar[int] = ContextVar("openassist_store_lane", default=AGENTS)


@contextlib.contextmanager
def api_lane() -> Iterator[None]:
    """Work submitted to the store inside the block (and by the tasks it starts) goes first."""
    token = _LANE.set(API)
    try:
        yield
    finally:
        _LANE.reset(token)


def in_api_lane() -> bool:
    return _LANE.get() == API


_Job = tuple[Callable[[float], None], float]  # (run, told how long it waited; queued at)


class LaneExecutor(Executor):
    """A fixed pool of threads (``concurrent.futures`` interface, for ``run_in_executor``)
    taking queued work by lane, then by arrival.

    Each lane is a deque, and every piece of work puts one token into a ``SimpleQueue`` that
    the idle threads wait on: a thread woken by a token takes the first work of the first lane
    that has any (there is always one: a token is put after its work). Enqueueing and waking
    are then a few C-level lock operations, where the ``PriorityQueue`` this replaced went
    through its pure-Python ``Condition`` (issue 18: ~9 hops per run). ``run`` spares the
    event loop the second future of ``run_in_executor`` too."""

    def __init__(
        self, workers: int, thread_name_prefix: str, observe_wait: WaitObserver | None = None
    ) -> None:
        self._observe_wait = observe_wait
        self._lanes: tuple[deque[_Job], deque[_Job]] = (deque(), deque())
        self._tokens: queue.SimpleQueue[bool] = queue.SimpleQueue()  # True: work, False: stop
        self._lock = threading.Lock()  # orders the tokens of work before shutdown's stops
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{thread_name_prefix}_{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def _put(self, lane: int, run: Callable[[float], None]) -> None:
        job = (run, perf_counter())
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._lanes[lane].append(job)
            self._tokens.put(True)

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """``fn()`` on one of the threads, for the running event loop to await: as
        ``loop.run_in_executor(self, fn)``, with one future (the loop's own, settled through
        ``call_soon_threadsafe``) instead of a ``concurrent.futures.Future`` chained to it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        lane = _LANE.get()

        def run(waited: float) -> None:
            self._waited(lane, waited)
            if future.cancelled():  # as a cancelled run_in_executor: never started
                return
            try:
                result = fn()
            except BaseException as error:
                settle_from_thread(loop, future, None, error)
            else:
                settle_from_thread(loop, future, result, None)

        self._put(lane, run)
        return future

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        lane = _LANE.get()

        def run(waited: float) -> None:
            self._waited(lane, waited)
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

        self._put(lane, run)
        return future

    def _waited(self, lane: int, seconds: float) -> None:
        if self._observe_wait is not None:
            self._observe_wait(LANE_NAMES[lane], seconds)

    def queued(self) -> int:
        """Work waiting for a thread (for metrics and benchmarks)."""
        return len(self._lanes[API]) + len(self._lanes[AGENTS])

    def _work(self) -> None:
        first, second = self._lanes
        while self._tokens.get():
            try:
                run, queued_at = first.popleft()
            except IndexError:
                run, queued_at = second.popleft()
            run(perf_counter() - queued_at)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                # Behind the tokens of everything queued in both lanes: queued work still runs.
                for _ in self._threads:
                    self._tokens.put(False)
        if wait:
            for thread in self._threads:
                thread.join()


def settle_from_thread(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[T],
    result: Any,
    error: BaseException | None = None,
) -> None:
    """From a thread: settle ``future`` (of ``loop``) with ``error`` if any, else ``result``,
    unless it is cancelled meanwhile; one hop back, where a ``concurrent.futures.Future``
    wrapped by ``asyncio.wrap_future`` takes its ``Condition`` several times first."""
    try:  # not contextlib.suppress: this is every hop's path, and that is a Python class
        loop.call_soon_threadsafe(_settle, future, result, error)
    except RuntimeError:  # the loop closed meanwhile: nobody is left to tell
        return


def _settle(future: asyncio.Future[T], result: T, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
