"""DescribeInvocations and DescribeInvocationResults against a store holding many results:
p50/p99 of the store work behind each call (the same store functions the service runs in its
read transaction), for every filter the API offers, on SQLite and on PostgreSQL.

The store is seeded directly (no agents, one multi-row INSERT stream on SQLite, COPY on
PostgreSQL): ``--tasks`` tasks, each on ``--per-task`` of ``--instances`` machines, newest last;
one task in 50 failed on one machine (one in
100 with an error other than its exit code: record status Failed), one in 1,000 a Period task
still Scheduled, one in 100 a PowerShell command, every task tagged ``env`` (prod/dev) and one in
1,000 ``team=db``; the newest 20 tasks are still pending. Issue 20 asks p99 <= 50 ms at
100,000 tasks x 10 machines.
Each line gives the p99's ratio to the by-InvokeId call of the same run (the baseline).
Usage: .venv/bin/python -m bench.result_queries [--tasks 100000] [--backend both] [--runs 200]
``--keep DIR`` seeds once into DIR (SQLite: DIR/bench.db; PostgreSQL: a database named after DIR,
kept) and reuses it while the sizes match; the newest migrations are applied on each run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
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

from sqlalchemy import Connection, Table

from bench.reconnect_swarm import percentile
from openassist.protocol.statuses import InvokeRecordStatus
from openassist.server.service.store_upkeep import StoreUpkeep
from openassist.server.store import invocations, listings, tags, target_sets
from openassist.server.store.db import Database
from openassist.server.store.invocations import InvocationFilter, ResultFilter
from openassist.server.store.paging import PageQuery
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import commands
from openassist.server.store.schema.tasks import invocation_instances as rows_table
from openassist.server.store.schema.tasks import invocations as tasks_table
from openassist.server.store.schema.tasks import tags as tags_table
from openassist.server.store.schema.tasks import target_sets as target_set_rows
from tests.support.cluster import postgres_admin_url, temporary_postgres_database

START_MS = 1_700_000_000_000
Row = tuple[Any, ...]


def _columns(table: Table, given: list[str]) -> list[str]:
    """The given columns plus every one a plain INSERT would fill from a Python default."""
    extra = [
        c.name for c in table.columns
        if c.name not in given and (
            (c.default is not None and c.default.is_scalar)
            or (c.server_default is None and c.nullable)
        )
    ]  # fmt: skip
    return given + extra


def _filled(table: Table, names: list[str], values: dict[str, Any]) -> Row:
    out = []
    for name in names:
        if name in values:
            out.append(values[name])
        else:
            default = table.c[name].default
            out.append(default.arg if default is not None else None)  # type: ignore[attr-defined]
    return tuple(out)


def _generate(tasks: int, machines: int, per_task: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {
        "commands": [], "tasks": [], "rows": [], "tags": [], "sets": []}  # fmt: skip
    named: set[str] = set()
    for t in range(tasks):
        created = START_MS + t * 1000
        pending = t >= tasks - 20
        timed = t % 1000 == 500
        failed_on = t % machines if t % 50 == 0 else -1
        code = "ExitCodeNonzero" if t % 100 else "InstanceNotRunning"  # record Finished/Failed
        kind = "RunPowerShellScript" if t % 100 == 7 else "RunShellScript"
        out["commands"].append(
            {"id": f"c-{t:08d}", "type": kind, "content": b"echo hi", "timeout": 60,
             "created_at": created, "name": f"cmd-{t % 1000:03d}"}
        )  # fmt: skip
        overall = "Pending" if pending else "Scheduled" if timed else (
            "Failed" if failed_on >= 0 else "Success")  # fmt: skip
        on = [f"i-{(t + k) % machines:06d}" for k in range(per_task)]
        target_set = target_sets.name_of(on)  # as store.invocations names it
        if target_set not in named:
            named.add(target_set)
            out["sets"] += [{"id": target_set, "instance_id": m} for m in on]
        out["tasks"].append(
            {"id": f"t-{t:08d}", "command_id": f"c-{t:08d}", "timeout": 60,
             "repeat_mode": "Period" if timed else "Once", "access_key_id": "bench",
             "created_at": created, "status": overall, "target_set": target_set}
        )  # fmt: skip
        out["tags"].append(
            {"resource_type": "invocation", "resource_id": f"t-{t:08d}", "key": "env",
             "value": "prod" if t % 2 else "dev"}
        )  # fmt: skip
        if t % 1000 == 3:
            out["tags"].append(
                {"resource_type": "invocation", "resource_id": f"t-{t:08d}", "key": "team",
                 "value": "db"}
            )  # fmt: skip
        for k in range(per_task):
            m = (t + k) % machines
            status = "Pending" if pending else "Scheduled" if timed else (
                "Failed" if m == failed_on else "Success")  # fmt: skip
            final = status in ("Success", "Failed")
            out["rows"].append(
                {"invoke_id": f"t-{t:08d}", "instance_id": f"i-{m:06d}", "status": status,
                 "exit_code": int(status == "Failed") if final else None,
                 "error_code": code if status == "Failed" else "",
                 "output": b"hi\n" if final else b"", "created_at": created,
                 "update_at": created}
            )  # fmt: skip
    return out


def _bulk(db: Database, table: Table, values: list[dict[str, Any]]) -> None:
    """COPY on PostgreSQL, one prepared multi-row stream on SQLite."""
    names = _columns(table, list(values[0]))
    rows = [_filled(table, names, v) for v in values]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.is_sqlite:
            marks = ",".join("?" * len(names))
            insert = f"INSERT INTO {table.name} ({','.join(names)}) VALUES ({marks})"
            cursor.executemany(insert, rows)
        else:
            quoted = ",".join(f'"{n}"' for n in names)
            with cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def seed(db: Database, tasks: int, machines: int, per_task: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            instances.insert(),
            [
                {"id": f"i-{m:06d}", "public_key": "-", "registered_at": START_MS}
                for m in range(machines)
            ],
        )
    data = _generate(tasks, machines, per_task)
    _bulk(db, commands, data["commands"])
    _bulk(db, tasks_table, data["tasks"])
    _bulk(db, tags_table, data["tags"])
    _bulk(db, target_set_rows, data["sets"])
    _bulk(db, rows_table, data["rows"])


def fanout_insert_ms(db: Database, targets: int = 10_000, repeats: int = 5) -> list[float]:
    """The write side's price of the read side: one task's rows on ``targets`` machines in one
    multi-row INSERT (a fan-out), each timed with its commit."""
    with db.engine.begin() as conn:
        conn.execute(instances.insert(), [
            {"id": f"i-fan-{m:06d}", "public_key": "-", "registered_at": START_MS}
            for m in range(targets)])  # fmt: skip
    took = []
    for r in range(repeats):
        task, created = f"t-fan-{r}", START_MS + 10**9 + r
        rows = [{"invoke_id": task, "instance_id": f"i-fan-{m:06d}", "status": "Pending",
                 "error_code": "", "error_info": "", "output": b"", "dropped": 0, "repeats": 0,
                 "created_at": created, "update_at": created} for m in range(targets)]  # fmt: skip
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(commands.insert(), [{"id": f"c-fan-{r}", "type": "RunShellScript",
                         "content": b"echo hi", "timeout": 60, "created_at": created}])  # fmt: skip
            named = target_sets.ensure(conn, [f"i-fan-{m:06d}" for m in range(targets)])
            conn.execute(tasks_table.insert(), [{"id": task, "command_id": f"c-fan-{r}",
                         "repeat_mode": "Once", "timeout": 60, "access_key_id": "bench",
                         "created_at": created, "status": "Pending",
                         "target_set": named}])  # fmt: skip
            conn.execute(rows_table.insert(), rows)
        took.append((time.perf_counter() - started) * 1000)
    with db.engine.begin() as conn:  # a kept store stays as it was seeded
        conn.execute(rows_table.delete().where(rows_table.c.invoke_id.like("t-fan-%")))
        conn.execute(tasks_table.delete().where(tasks_table.c.id.like("t-fan-%")))
        conn.execute(commands.delete().where(commands.c.id.like("c-fan-%")))
        conn.execute(instances.delete().where(instances.c.id.like("i-fan-%")))
        conn.execute(target_set_rows.delete().where(target_set_rows.c.instance_id.like("i-fan-%")))
    return took


def describe_results(conn: Connection, where: ResultFilter, page: PageQuery) -> int:
    """What InvocationService.results runs in its read transaction."""
    found = listings.list_results(conn, where, page)
    tasks = invocations.invocations_by_id(conn, [r.invoke_id for r in found.items])
    invocations.commands_by_id(conn, [t.command_id for t in tasks.values()])
    return found.total


def describe_tasks(conn: Connection, where: InvocationFilter, page: PageQuery) -> int:
    """What InvocationService.describe runs in its read transaction."""
    found = listings.list_invocations(conn, where, page)
    ids = [i.id for i in found.items]
    invocations.instances_of(conn, ids)
    invocations.commands_by_id(conn, [i.command_id for i in found.items])
    tags.tags_of(conn, "invocation", ids)
    return found.total


Case = tuple[str, Callable[[Connection], int]]


def _results_case(
    where: Callable[[], ResultFilter], page: Callable[[], PageQuery]
) -> Callable[[Connection], int]:
    return lambda conn: describe_results(conn, where(), page())


def _tasks_case(
    where: Callable[[], InvocationFilter], page: Callable[[], PageQuery]
) -> Callable[[Connection], int]:
    return lambda conn: describe_tasks(conn, where(), page())


def cases(tasks: int, machines: int) -> list[Case]:
    def n() -> int:
        return random.randrange(tasks)

    def task() -> str:
        return f"t-{n():08d}"

    def command() -> str:
        return f"c-{n():08d}"

    def machine() -> str:
        return f"i-{random.randrange(machines):06d}"

    def row_key() -> tuple[int | str, ...]:  # a NextToken from somewhere in the list
        t = n()
        return (START_MS + t * 1000, f"t-{t:08d}", f"i-{t % machines:06d}")

    def task_key() -> tuple[int | str, ...]:
        t = n()
        return (START_MS + t * 1000, f"t-{t:08d}")

    def day(make: Callable[..., Any]) -> Any:
        start = START_MS + n() * 1000
        return make(created_from=start, created_to=start + 86_400_000)

    two = tuple(f"i-{m:06d}" for m in range(min(2, machines)))  # a RAM user seeing 2 machines
    R, F, P = ResultFilter, InvocationFilter, PageQuery
    S = InvokeRecordStatus
    p10, p50 = P(limit=10), P(limit=50)
    results: list[tuple[str, Callable[[], ResultFilter], Callable[[], PageQuery]]] = [
        ("InvokeId", lambda: R(invoke_id=task()), lambda: p50),
        ("InvokeId + InstanceId", lambda: R(invoke_id=task(), instance_id=machine()), lambda: p10),
        ("InstanceId (newest 10)", lambda: R(instance_id=machine()), lambda: p10),
        ("InstanceId + Failed", lambda: R(instance_id=machine(), record_status=S.FAILED),
         lambda: p10),
        ("InstanceId, NextToken", lambda: R(instance_id=machine()),
         lambda: P(limit=10, after=row_key())),
        ("status Finished", lambda: R(record_status=S.FINISHED), lambda: p10),
        ("status Failed", lambda: R(record_status=S.FAILED), lambda: p10),
        ("status Stopped (none)", lambda: R(record_status=S.STOPPED), lambda: p10),
        ("status Running", lambda: R(record_status=S.RUNNING), lambda: p10),
        ("CommandId", lambda: R(command_id=command()), lambda: p10),
        ("no filter, newest", R, lambda: p10),
        ("no filter, NextToken", R, lambda: P(limit=10, after=row_key())),
        ("no filter, PageNumber 100", R, lambda: P(limit=10, offset=990)),
        ("RAM user (2 machines)", lambda: R(visible=two), lambda: p10),
    ]  # fmt: skip
    tasks_cases: list[tuple[str, Callable[[], InvocationFilter], Callable[[], PageQuery]]] = [
        ("newest", F, lambda: p10),
        ("InvokeId", lambda: F(invoke_id=task()), lambda: p10),
        ("InstanceId", lambda: F(instance_id=machine()), lambda: p10),
        ("InstanceId, NextToken", lambda: F(instance_id=machine()),
         lambda: P(limit=10, after=task_key())),
        ("status Failed", lambda: F(statuses=("Failed",)), lambda: p10),
        ("status Finished", lambda: F(statuses=("Success", "Failed", "PartialFailed", "Stopped")),
         lambda: p10),
        ("status Stopped (none)", lambda: F(statuses=("Stopped",)), lambda: p10),
        ("CommandId", lambda: F(command_id=command()), lambda: p10),
        ("CommandName", lambda: F(command_name=f"cmd-{random.randrange(1000):03d}"),
         lambda: p10),
        ("CommandType PowerShell", lambda: F(command_type="RunPowerShellScript"), lambda: p10),
        ("RepeatMode Period", lambda: F(repeat_mode="Period"), lambda: p10),
        ("Timed true", lambda: F(timed=True), lambda: p10),
        ("Timed false", lambda: F(timed=False), lambda: p10),
        ("tag env=prod", lambda: F(tags=(("env", "prod"),)), lambda: p10),
        ("tag team=db", lambda: F(tags=(("team", "db"),)), lambda: p10),
        ("time range (one day)", lambda: day(F), lambda: p10),
        ("NextToken", F, lambda: P(limit=10, after=task_key())),
        ("PageNumber 100", F, lambda: P(limit=10, offset=990)),
        ("RAM user (2 machines)", lambda: F(visible=two), lambda: p10),
    ]  # fmt: skip
    out: list[Case] = []
    for label, r_where, r_page in results:
        out.append((f"Results {label}", _results_case(r_where, r_page)))
    for label, t_where, t_page in tasks_cases:
        out.append((f"Invocations {label}", _tasks_case(t_where, t_page)))
    return out


@contextmanager
def store(postgres: bool, root: Path, keep: bool) -> Iterator[tuple[Database, str]]:
    if postgres and keep:
        url = _kept_postgres(root)
    elif postgres:
        with temporary_postgres_database() as url, store_at(url) as db:
            yield db, "PostgreSQL"
        return
    else:
        url = f"sqlite:///{root / 'bench.db'}"
    with store_at(url) as db:
        yield db, "PostgreSQL" if postgres else "SQLite"


@contextmanager
def store_at(url: str) -> Iterator[Database]:
    db = Database(url)
    try:
        yield db
    finally:
        db.close()


def _kept_postgres(root: Path) -> str:
    """A database on the test server named after ``root``, created once and then kept."""
    import psycopg

    admin = postgres_admin_url()
    name = "openassist_bench_" + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute(b"SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"'.encode())
    return f"{admin.rsplit('/', 1)[0]}/{name}"


def _seeded(db: Database, marker: Path | None, sizes: dict[str, int]) -> bool:
    """Seed the store unless ``marker`` says it holds these sizes already."""
    if marker is not None and marker.exists() and json.loads(marker.read_text()) == sizes:
        return False
    seed(db, sizes["tasks"], sizes["instances"], sizes["per_task"])
    if marker is not None:
        marker.write_text(json.dumps(sizes))
    return True


def measure(db: Database, run: Callable[[Connection], int], runs: int) -> tuple[list[float], int]:
    samples: list[float] = []
    total = 0
    with db.engine.connect() as conn:
        for _ in range(runs):
            started = time.perf_counter()
            with conn.begin():
                total = run(conn)
            samples.append((time.perf_counter() - started) * 1000)
    return samples, total


def bench_backend(postgres: bool, args: argparse.Namespace, only: str) -> None:
    per_task = min(args.per_task, args.instances)
    sizes = {"tasks": args.tasks, "instances": args.instances, "per_task": per_task}
    random.seed(20)
    with contextlib.ExitStack() as stack:
        if args.keep:
            root, marker = args.keep, args.keep / ("postgres" if postgres else "sqlite")
            root.mkdir(parents=True, exist_ok=True)
        else:
            root, marker = Path(stack.enter_context(tempfile.TemporaryDirectory())), None
        db, name = stack.enter_context(store(postgres, root, args.keep is not None))
        db.migrate()
        began = time.monotonic()
        fresh = _seeded(db, marker, sizes)
        seeded_s = time.monotonic() - began
        if not db.is_sqlite:  # what autovacuum (on by default) does to a store that grew
            with db.engine.connect() as conn:  # VACUUM: the visibility map index-only scans use
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE"
                )
        began = time.monotonic()
        asyncio.run(StoreUpkeep(db).once(analyze=True))  # what the server does while it runs
        upkeep_s = time.monotonic() - began
        print(
            f"result queries: {name}, {args.tasks} tasks x {per_task} of {args.instances}"
            f" machines = {args.tasks * per_task} result rows"
            f" ({'seeded in' if fresh else 'kept, checked in'} {seeded_s:.0f} s, tallies"
            f" folded and statistics taken in {upkeep_s:.1f} s),"
            f" {args.runs} calls each; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if args.fanout:
            took = fanout_insert_ms(db)
            print(f"  fan-out: one INSERT of 10,000 rows p50 {statistics.median(took):.0f} ms"
                  f" (max {max(took):.0f} ms of {len(took)})", flush=True)  # fmt: skip
            return
        baseline = None
        for label, run in cases(args.tasks, args.instances):
            if only and only not in label:
                continue
            samples, total = measure(db, run, args.runs)
            p99 = percentile(samples, 0.99)
            baseline = baseline or p99
            print(
                f"  {label:<40} p50 {statistics.median(samples):7.1f} ms"
                f"  p99 {p99:7.1f} ms  x{p99 / baseline:5.1f}  (TotalCount e.g. {total})",
                flush=True,
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--per-task", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--fanout", action="store_true", help="time fan-out inserts instead")
    parser.add_argument("--only", default="", help="only the cases whose label contains this")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgres", "both"), default="both",
        help="postgres: a fresh database on OPENASSIST_TEST_POSTGRES_URL",
    )  # fmt: skip
    parser.add_argument("--postgres", action="store_true", help="same as --backend postgres")
    parser.add_argument("--keep", type=Path, help="seed once into this directory and reuse it")
    args = parser.parse_args()
    backend = "postgres" if args.postgres else args.backend
    for postgres in (False, True):
        if backend == "both" or backend == ("postgres" if postgres else "sqlite"):
            bench_backend(postgres, args, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
