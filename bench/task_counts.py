"""A task's rows counted by status, as the console's task pages and task list need them: read
from the counts the task keeps (``status_counts``, migration 0035) against a count of its rows
(the per-row count policy-restricted users still get), in turns on one store, for a task of
``--rows`` results and a list page of 20 such tasks; p50/p99 and the ratio to the row count.
Usage: .venv/bin/python -m bench.task_counts [--rows 1000] [--runs 300] [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Connection

from bench.reconnect_swarm import percentile
from openassist.protocol.statuses import InstanceStatus, InvocationStatus, RepeatMode
from openassist.server.store import invocations, task_rows
from openassist.server.store.db import Database
from openassist.server.store.records import Invocation, InvocationInstance
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import commands
from tests.support.cluster import temporary_postgres_database

STATUSES = (InstanceStatus.SUCCESS, InstanceStatus.FAILED, InstanceStatus.RUNNING)
LIST_PAGE = 20


@contextlib.contextmanager
def _store(postgres: bool) -> Iterator[Database]:
    with contextlib.ExitStack() as stack:
        if postgres:
            url = stack.enter_context(temporary_postgres_database())
        else:
            url = f"sqlite:///{Path(stack.enter_context(tempfile.TemporaryDirectory()))}/s.db"
        db = Database(url)
        db.migrate()
        try:
            yield db
        finally:
            db.close()


def _row(invoke_id: str, machine: str, status: InstanceStatus) -> InvocationInstance:
    return InvocationInstance(
        invoke_id, machine, status, "", "", None, b"", 0, 0, 0, None, None, None, None, 0
    )


def _seed(db: Database, rows: int, tasks: int) -> list[str]:
    machines = [f"mi-bench{n:017d}" for n in range(rows)]
    ids = [f"t-bench{n:018d}" for n in range(tasks)]
    with db.engine.begin() as conn:
        conn.execute(
            instances.insert(), [{"id": m, "public_key": "-", "registered_at": 0} for m in machines]
        )
        conn.execute(
            commands.insert().values(
                id="c-b", type="RunShellScript", content=b"", timeout=60, created_at=0
            )
        )
        for invoke_id in ids:
            task = Invocation(
                id=invoke_id, command_id="c-b", repeat_mode=RepeatMode.ONCE, frequency="",
                timeout=60, working_dir="", username="", parameters="{}",
                termination_mode=None, status=InvocationStatus.RUNNING, access_key_id="k",
                created_at=0,
            )  # fmt: skip
            rows_of = [_row(invoke_id, m, STATUSES[n % 3]) for n, m in enumerate(machines)]
            invocations.insert_invocation(conn, task, rows_of)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return ids


def _timed(db: Database, work: Callable[[Connection], object]) -> float:
    with db.engine.connect() as conn, conn.begin():
        started = time.perf_counter()
        work(conn)
        return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with _store(args.postgres) as db:
        ids = _seed(db, args.rows, LIST_PAGE)
        one = ids[:1]
        ways: dict[str, Callable[[Connection], object]] = {
            "task page, rows counted (baseline)": lambda c: task_rows.status_counts(c, one),
            "task page, kept counts": lambda c: task_rows.kept_status_counts(c, one),
            "list of 20, rows counted": lambda c: task_rows.status_counts(c, ids),
            "list of 20, kept counts": lambda c: task_rows.kept_status_counts(c, ids),
        }
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.runs):  # in turns: the machine's load falls on each alike
            for name, work in ways.items():
                times[name].append(_timed(db, work))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"task status counts, {args.rows} rows a task, {backend}, {args.runs} runs in turns")
    base = statistics.median(times["task page, rows counted (baseline)"])
    for name, values in times.items():
        p50 = statistics.median(values)
        print(
            f"  {name:36} p50 {p50:7.3f} ms  p99 {percentile(values, 0.99):7.3f} ms"
            f"  x{p50 / base:5.2f}"
        )


if __name__ == "__main__":
    main()
