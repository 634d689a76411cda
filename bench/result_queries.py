"""DescribeInvocations and DescribeInvocationResults against a store holding many results:
p50/p99 of the store work behind each call (the same store functions the service runs in its
read transaction), for every filter the API offers.

The store is seeded directly (no agents): ``--tasks`` RunCommand tasks, each on ``--per-task``
of ``--instances`` machines, newest last; one task in 50 failed on one machine, the newest 20
tasks still pending. Issue 20 quotes today's main on SQLite with 100,000 tasks x 10 machines.
Usage: .venv/bin/python -m bench.result_queries [--tasks 100000] [--postgres] [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from bench.reconnect_swarm import percentile
from openassist.protocol.statuses import InvokeRecordStatus
from openassist.server.store import invocations, tags
from openassist.server.store.db import Database
from openassist.server.store.paging import PageQuery
from openassist.server.store.schema import commands, instances
from openassist.server.store.schema import invocation_instances as rows_table
from openassist.server.store.schema import invocations as tasks_table
from tests.support.cluster import temporary_postgres_database

CHUNK = 5000
START_MS = 1_700_000_000_000


def seed(db: Database, tasks: int, machines: int, per_task: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            instances.insert(),
            [
                {"id": f"i-{m:06d}", "public_key": "-", "registered_at": START_MS}
                for m in range(machines)
            ],
        )
    for first in range(0, tasks, CHUNK):
        cmds, tasks_rows, results = [], [], []
        for t in range(first, min(tasks, first + CHUNK)):
            created = START_MS + t * 1000
            pending = t >= tasks - 20
            failed_on = t % machines if t % 50 == 0 else -1
            cmds.append(
                {"id": f"c-{t:08d}", "type": "RunShellScript", "content": b"echo hi",
                 "timeout": 60, "created_at": created}
            )  # fmt: skip
            tasks_rows.append(
                {"id": f"t-{t:08d}", "command_id": f"c-{t:08d}", "repeat_mode": "Once",
                 "timeout": 60, "access_key_id": "bench", "created_at": created,
                 "status": "Pending" if pending else "Failed" if failed_on >= 0 else "Success"}
            )  # fmt: skip
            for k in range(per_task):
                m = (t + k) % machines
                status = "Pending" if pending else "Failed" if m == failed_on else "Success"
                results.append(
                    {"invoke_id": f"t-{t:08d}", "instance_id": f"i-{m:06d}", "status": status,
                     "exit_code": None if pending else int(status == "Failed"),
                     "error_code": "ExitCodeNonzero" if status == "Failed" else "",
                     "output": b"" if pending else b"hi\n", "created_at": created,
                     "update_at": created}
                )  # fmt: skip
        with db.engine.begin() as conn:
            conn.execute(commands.insert(), cmds)
            conn.execute(tasks_table.insert(), tasks_rows)
            conn.execute(rows_table.insert(), results)


def describe_results(conn: Connection, where: invocations.ResultFilter, page: PageQuery) -> int:
    """What InvocationService.results runs in its read transaction."""
    found = invocations.list_results(conn, where, page)
    tasks = invocations.invocations_by_id(conn, [r.invoke_id for r in found.items])
    invocations.commands_by_id(conn, [t.command_id for t in tasks.values()])
    return found.total


def describe_tasks(conn: Connection, where: invocations.InvocationFilter, page: PageQuery) -> int:
    """What InvocationService.describe runs in its read transaction."""
    found = invocations.list_invocations(conn, where, page)
    ids = [i.id for i in found.items]
    invocations.instances_of(conn, ids)
    invocations.commands_by_id(conn, [i.command_id for i in found.items])
    tags.tags_of(conn, "invocation", ids)
    return found.total


def cases(tasks: int, machines: int) -> list[tuple[str, Callable[[Connection], int]]]:
    def task() -> str:
        return f"t-{random.randrange(tasks):08d}"

    def command() -> str:
        return f"c-{random.randrange(tasks):08d}"

    def machine() -> str:
        return f"i-{random.randrange(machines):06d}"

    R, F = invocations.ResultFilter, invocations.InvocationFilter
    p10, p50 = PageQuery(limit=10), PageQuery(limit=50)
    return [
        ("Results by InvokeId", lambda c: describe_results(c, R(invoke_id=task()), p50)),
        ("Results by InstanceId (newest 10)", lambda c: describe_results(
            c, R(instance_id=machine()), p10)),
        ("Results by InstanceId + Failed", lambda c: describe_results(
            c, R(instance_id=machine(), record_status=InvokeRecordStatus.FAILED), p10)),
        ("Results by status Finished", lambda c: describe_results(
            c, R(record_status=InvokeRecordStatus.FINISHED), p10)),
        ("Results by CommandId", lambda c: describe_results(c, R(command_id=command()), p10)),
        ("Results newest (no filter)", lambda c: describe_results(c, R(), p10)),
        ("Invocations newest", lambda c: describe_tasks(c, F(), p10)),
        ("Invocations by InvokeId", lambda c: describe_tasks(c, F(invoke_id=task()), p10)),
        ("Invocations by InstanceId", lambda c: describe_tasks(c, F(instance_id=machine()), p10)),
        ("Invocations by status Failed", lambda c: describe_tasks(c, F(statuses=("Failed",)), p10)),
        ("Invocations by CommandId", lambda c: describe_tasks(c, F(command_id=command()), p10)),
    ]  # fmt: skip


@contextmanager
def store(postgres: bool, root: Path) -> Iterator[tuple[Database, str]]:
    if postgres:
        with temporary_postgres_database() as url:
            db = Database(url)
            try:
                yield db, "PostgreSQL"
            finally:
                db.close()
    else:
        db = Database(f"sqlite:///{root / 'bench.db'}")
        try:
            yield db, "SQLite"
        finally:
            db.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--per-task", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="OPENASSIST_TEST_POSTGRES_URL")
    args = parser.parse_args()
    per_task = min(args.per_task, args.instances)
    random.seed(20)
    with tempfile.TemporaryDirectory() as temp, store(args.postgres, Path(temp)) as (db, name):
        db.migrate()
        began = time.monotonic()
        seed(db, args.tasks, args.instances, per_task)
        seeded_s = time.monotonic() - began
        if not db.is_sqlite:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        print(
            f"result queries: {name}, {args.tasks} tasks x {per_task} of {args.instances}"
            f" machines = {args.tasks * per_task} result rows (seeded in {seeded_s:.0f} s),"
            f" {args.runs} calls each; load average {os.getloadavg()[0]:.1f}"
        )
        for label, run in cases(args.tasks, args.instances):
            samples: list[float] = []
            total: Any = 0
            with db.engine.connect() as conn:
                for _ in range(args.runs):
                    started = time.perf_counter()
                    with conn.begin():
                        total = run(conn)
                    samples.append((time.perf_counter() - started) * 1000)
            print(
                f"  {label:<36} p50 {statistics.median(samples):7.1f} ms"
                f"  p99 {percentile(samples, 0.99):7.1f} ms  (TotalCount e.g. {total})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
