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

import contextlib
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextvars import ContextVar
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


_Entry = tuple[int, int, Callable[[], None] | None]  # (lane, arrival, run) ; run None: stop


class LaneExecutor(Executor):
    """A fixed pool of threads (``concurrent.futures`` interface, for ``run_in_executor``)
    taking queued work by lane, then by arrival."""

    def __init__(
        self, workers: int, thread_name_prefix: str, observe_wait: WaitObserver | None = None
    ) -> None:
        self._observe_wait = observe_wait
        self._queue: queue.PriorityQueue[_Entry] = queue.PriorityQueue()
        self._arrivals = itertools.count()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{thread_name_prefix}_{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        lane, queued_at = _LANE.get(), time.perf_counter()

        def run() -> None:
            if self._observe_wait is not None:
                self._observe_wait(LANE_NAMES[lane], time.perf_counter() - queued_at)
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queue.put((lane, next(self._arrivals), run))
        return future

    def queued(self) -> int:
        """Work waiting for a thread (for metrics and benchmarks)."""
        return self._queue.qsize()

    def _work(self) -> None:
        while True:
            _lane, _arrival, run = self._queue.get()
            if run is None:
                return
            run()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                # Behind everything queued in both lanes: queued work still runs.
                for _ in self._threads:
                    self._queue.put((AGENTS + 1, next(self._arrivals), None))
        if wait:
            for thread in self._threads:
                thread.join()
