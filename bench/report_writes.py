"""The store's side of agent reports, without TLS, HTTP or simulated agents: one task on
``--rows`` instances, and a finish report for each (``hi``, exit 0) sent through the gateway's
own use case (``DeliveryService.report``) with ``--inflight`` reports at once, as a fleet's
answers arrive during a fan-out; then reports one at a time (an idle server: the latency of a
lone report). Three ways, alternated in the same run on a fresh database each:
  one-by-one+scan  a transaction per report, overall status from a scan of every row (as before)
  grouped+scan     group commit, overall status still from a scan
  grouped+counts   group commit and status counts (what the server does now)
and on PostgreSQL a fourth, grouped+counts with ``--batches`` batches in flight at once. With
``--tasks N`` the rows belong to N tasks (a fan-out in API calls of 100 is rows/100 tasks).
Usage: .venv/bin/python -m bench.report_writes [--rows 2000] [--inflight 200] [--postgres]
    [--tasks 1] [--batches 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import Connection

from openassist.protocol.reports import ReportKind, TaskReport
from openassist.protocol.statuses import InstanceStatus, InvocationStatus, RepeatMode
from openassist.server.bus.memory import MemoryBus
from openassist.server.lifecycle import StatusCounts
from openassist.server.service.clock import SystemClock
from openassist.server.service.context import Limits, ServiceContext
from openassist.server.service.delivery import DeliveryService
from openassist.server.store import invocations, proposals
from openassist.server.store.db import Database
from openassist.server.store.group_commit import GroupCommit
from openassist.server.store.records import Invocation, InvocationInstance
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import commands
from tests.support.cluster import temporary_postgres_database

WAYS = ("one-by-one+scan", "grouped+scan", "grouped+counts")
LONE = 200  # reports one at a time


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _machines(db: Database, machines: list[str]) -> None:
    with db.engine.begin() as conn:
        known = [{"id": m, "public_key": "-", "registered_at": 0} for m in machines]
        conn.execute(instances.insert(), known)
        conn.execute(
            commands.insert().values(
                id="c-1", type="RunShellScript", content=b"", timeout=60, created_at=0
            )
        )


def _seed(db: Database, invoke_id: str, machines: list[str]) -> None:
    with db.engine.begin() as conn:
        task = Invocation(
            id=invoke_id, command_id="c-1", repeat_mode=RepeatMode.ONCE, frequency="",
            timeout=60, working_dir="", username="", parameters="{}", termination_mode=None,
            status=InvocationStatus.PENDING, access_key_id="k", created_at=0,
        )  # fmt: skip
        rows = [_pending(invoke_id, m) for m in machines]
        invocations.insert_invocation(conn, task, rows)


def _pending(invoke_id: str, machine: str) -> InvocationInstance:
    return InvocationInstance(
        invoke_id, machine, InstanceStatus.PENDING, "", "", None, b"", 0, 0, 0, 0, None, None,
        None, 0,
    )  # fmt: skip


def _scan_instead(
    conn: Connection,
    tables: proposals.TaskTables,
    invoke_id: str,
    counts: StatusCounts | None,
    old: InstanceStatus,
    new: InstanceStatus,
) -> None:
    """The old way: every row read again after each change."""
    del counts, old, new
    proposals.refresh_overall(conn, tables, invoke_id)
    proposals.bump_results_seq(conn, tables, invoke_id)


@contextmanager
def _way(db: Database, way: str, batches: int) -> Iterator[None]:
    grouped, moved = db.write_grouped, proposals._count_move
    if way.endswith("at once"):
        db.grouped = GroupCommit(db, writers=batches)
    if way.startswith("one-by-one"):
        db.write_grouped = lambda work, lock_order="": db.write(work)  # type: ignore[method-assign]
    if way.endswith("+scan"):
        proposals._count_move = _scan_instead
    try:
        yield
    finally:
        db.write_grouped = grouped  # type: ignore[method-assign]
        proposals._count_move = moved


def _report(invoke_id: str) -> TaskReport:
    now = time.time_ns() // 1_000_000
    return TaskReport(
        kind=ReportKind.FINISH, task_id=invoke_id, start_ms=now, end_ms=now, exit_code=0,
        output=b"hi\n",
    )  # fmt: skip


async def _fan_in(
    service: DeliveryService, invoke_ids: list[str], machines: list[str], inflight: int
) -> float:
    gate = asyncio.Semaphore(inflight)
    per_task = -(-len(machines) // len(invoke_ids))

    async def one(n: int, machine: str) -> None:
        async with gate:
            await service.report(machine, _report(invoke_ids[n // per_task]))

    started = time.perf_counter()
    await asyncio.gather(*(one(n, m) for n, m in enumerate(machines)))
    return time.perf_counter() - started


async def _lone(service: DeliveryService, invoke_id: str, machines: list[str]) -> list[float]:
    samples = []
    for machine in machines:
        started = time.perf_counter()
        await service.report(machine, _report(invoke_id))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run_way(
    url: str, way: str, rows: int, inflight: int, tasks: int, batches: int
) -> tuple[float, list[float]]:
    db = Database(url)
    db.migrate()
    try:
        machines = [f"i-{n:05d}" for n in range(rows)]
        per_task = -(-rows // tasks)
        fans = [f"t-fan-{n}" for n in range(-(-rows // per_task))]
        _machines(db, machines)
        for n, fan in enumerate(fans):
            _seed(db, fan, machines[n * per_task : (n + 1) * per_task])
        _seed(db, "t-lone", machines[:LONE])
        context = ServiceContext(db, MemoryBus(), SystemClock(), Limits())
        service = DeliveryService(context, None)  # type: ignore[arg-type]  # reports need none
        with _way(db, way, batches):
            seconds = asyncio.run(_fan_in(service, fans, machines, inflight))
            lone = asyncio.run(_lone(service, "t-lone", machines[:LONE]))
        with db.engine.connect() as conn:
            for fan in fans:
                task = invocations.get_invocation(conn, fan)
                assert task is not None and task.status is InvocationStatus.SUCCESS, task
        return rows / seconds, lone
    finally:
        db.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--inflight", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help="on OPENASSIST_TEST_POSTGRES_URL")
    parser.add_argument("--tasks", type=int, default=1, help="tasks the rows belong to")
    parser.add_argument("--batches", type=int, default=4, help="PostgreSQL: batches at once")
    args = parser.parse_args()
    ways = [*WAYS, f"grouped+counts, {args.batches} at once"] if args.postgres else list(WAYS)
    rates: dict[str, list[float]] = {way: [] for way in ways}
    lone: dict[str, list[float]] = {way: [] for way in ways}
    for _round in range(args.rounds):
        for way in ways:
            with ExitStack() as stack:
                if args.postgres:
                    url = stack.enter_context(temporary_postgres_database())
                else:
                    root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                    url = f"sqlite:///{root / 'store.db'}"
                rate, samples = run_way(
                    url, way, args.rows, args.inflight, args.tasks, args.batches
                )
            rates[way].append(rate)
            lone[way] += samples
    backend = "PostgreSQL" if args.postgres else "SQLite"
    load = os.getloadavg()
    print(
        f"report writes: {args.tasks} task(s) on {args.rows} instances, {args.inflight} reports"
        " in flight,"
        f" {backend}, {args.rounds} rounds, load average {load[0]:.1f}"
    )
    base = statistics.median(rates[WAYS[0]])
    for way in ways:
        rate = statistics.median(rates[way])
        p50, p99 = statistics.median(lone[way]), percentile(lone[way], 0.99)
        print(
            f"  {way:<28} {rate:7.0f} results/s ({rate / base:4.1f}x)   a lone report:"
            f" p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
