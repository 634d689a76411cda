"""A task's overall status from its status counts (moved with each row's change, migration
0035) against the old answer, a scan of every row, after each of many mixed events: on SQLite
and PostgreSQL, for tasks created with counts, tasks from before them (NULL) and tasks whose
counts went stale; through group commit too, many reports of one task in one transaction; and
the console's reading of them (``task_rows.kept_status_counts``) against a count of the rows."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, update

from openassist.protocol.statuses import InstanceStatus, InvocationStatus, RepeatMode
from openassist.server.lifecycle import Event, EventKind, count_statuses, overall_status
from openassist.server.store import invocations, proposals, task_rows
from openassist.server.store.db import Database
from openassist.server.store.records import Invocation, InvocationInstance
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import commands
from openassist.server.store.schema.tasks import invocation_instances as rows_table
from openassist.server.store.schema.tasks import invocations as tasks_table
from tests.conftest import BACKENDS
from tests.support.store import opened_database

MACHINES = [f"i-{m:02d}" for m in range(25)]
TASKS = ["t-counted", "t-legacy", "t-stale"]
EVENTS = [
    Event(EventKind.STARTED),
    Event(EventKind.FINISHED, exit_code=0),
    Event(EventKind.FINISHED, exit_code=0),
    Event(EventKind.FINISHED, exit_code=3),
    Event(EventKind.TIMED_OUT),
    Event(EventKind.ERRORED),
    Event(EventKind.INVALID),
    Event(EventKind.ABORTED),
    Event(EventKind.STOP_REQUESTED, delivered=True),
    Event(EventKind.STOP_REQUESTED),
    Event(EventKind.STOPPED),
    Event(EventKind.FAILED),
]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with opened_database(request.param, tmp_path, migrated=True) as database:
        yield database


def _row(invoke_id: str, machine: str) -> InvocationInstance:
    return InvocationInstance(
        invoke_id, machine, InstanceStatus.PENDING, "", "", None, b"", 0, 0, 0, None, None, None,
        None, 0,
    )  # fmt: skip


def _seed(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            instances.insert(), [{"id": m, "public_key": "-", "registered_at": 0} for m in MACHINES]
        )
        conn.execute(
            commands.insert().values(
                id="c-1", type="RunShellScript", content=b"", timeout=60, created_at=0
            )
        )
        for invoke_id in TASKS:
            task = Invocation(
                id=invoke_id,
                command_id="c-1",
                repeat_mode=RepeatMode.ONCE,
                frequency="",
                timeout=60,
                working_dir="",
                username="",
                parameters="{}",
                termination_mode=None,
                status=InvocationStatus.PENDING,
                access_key_id="k",
                created_at=0,
            )
            invocations.insert_invocation(conn, task, [_row(invoke_id, m) for m in MACHINES])
        where = tasks_table.c.id
        conn.execute(update(tasks_table).where(where == "t-legacy").values(status_counts=None))
        stale = json.dumps({"Success": 25})  # no Pending row, as a bug elsewhere might leave
        conn.execute(update(tasks_table).where(where == "t-stale").values(status_counts=stale))


def _check(conn: Connection, invoke_id: str) -> InvocationStatus:
    """The task's stored status equals the scan's, and its counts (once it has them) the rows."""
    statuses = [
        InstanceStatus(s)
        for s in conn.execute(
            select(rows_table.c.status).where(rows_table.c.invoke_id == invoke_id)
        ).scalars()
    ]
    task = conn.execute(
        select(tasks_table.c.status, tasks_table.c.status_counts).where(
            tasks_table.c.id == invoke_id
        )
    ).one()
    assert InvocationStatus(task.status) is overall_status(statuses), invoke_id
    state = proposals.results_state(conn, invocations.TABLES, invoke_id)
    assert state is not None and state.total == len(statuses), invoke_id
    assert state.finished == sum(1 for s in statuses if s.is_final), invoke_id
    if task.status_counts is not None and invoke_id != "t-stale":
        counted = {InstanceStatus(k): v for k, v in json.loads(task.status_counts).items()}
        assert counted == count_statuses(statuses), invoke_id
    return InvocationStatus(task.status)


def test_the_status_from_counts_is_the_status_of_a_scan_after_every_event(db: Database) -> None:
    _seed(db)
    pick = random.Random(29)
    seen: set[InvocationStatus] = set()
    with db.engine.connect() as conn:
        for step in range(900):
            invoke_id = pick.choice(TASKS)
            with conn.begin():
                invocations.apply_event(
                    conn, invoke_id, pick.choice(MACHINES), pick.choice(EVENTS), {}, step
                )
            with conn.begin():
                seen.add(_check(conn, invoke_id))
        with conn.begin():
            for invoke_id in TASKS:
                _check(conn, invoke_id)
                counts = conn.scalar(
                    select(tasks_table.c.status_counts).where(tasks_table.c.id == invoke_id)
                )
                assert counts is not None  # the legacy and the stale task were counted again
        with conn.begin():  # what the console's task pages show: the kept counts, the rows'
            assert task_rows.kept_status_counts(conn, TASKS) == task_rows.status_counts(conn, TASKS)
    # The walk went through active and final overall statuses.
    assert {InvocationStatus.PENDING, InvocationStatus.PARTIAL_FAILED} <= seen and len(seen) >= 3


def test_reports_of_one_task_in_one_batch_keep_its_counts(db: Database) -> None:
    _seed(db)
    finished = Event(EventKind.FINISHED, exit_code=0)
    failed = Event(EventKind.FINISHED, exit_code=1)

    def report(machine: str, n: int) -> object:
        def work(conn: Connection) -> InstanceStatus | None:
            event = failed if n % 5 == 0 else finished
            return invocations.apply_event(conn, "t-counted", machine, event, {}, n)

        return work

    async def fan_in() -> list[object]:
        works = [report(m, n) for n, m in enumerate(MACHINES)]
        return await asyncio.gather(*(db.write_grouped(w) for w in works))  # type: ignore[arg-type]

    answers = asyncio.run(fan_in())
    assert answers.count(InstanceStatus.FAILED) == 5
    assert db.grouped.batches >= 1
    with db.engine.connect() as conn, conn.begin():
        assert _check(conn, "t-counted") is InvocationStatus.PARTIAL_FAILED


def test_a_task_without_kept_counts_is_counted_from_its_rows(db: Database) -> None:
    _seed(db)
    with db.engine.connect() as conn, conn.begin():
        invocations.apply_event(conn, "t-counted", MACHINES[0], Event(EventKind.STARTED), {}, 1)
        invocations.apply_event(conn, "t-legacy", MACHINES[0], Event(EventKind.STARTED), {}, 1)
        conn.execute(
            update(tasks_table).where(tasks_table.c.id == "t-legacy").values(status_counts=None)
        )
        kept = task_rows.kept_status_counts(conn, ["t-counted", "t-legacy", "t-none"])
    running = {InstanceStatus.RUNNING: 1, InstanceStatus.PENDING: len(MACHINES) - 1}
    assert kept == {"t-counted": running, "t-legacy": running, "t-none": {}}
