"""Listing results and tasks by instance, status and command, against an oracle computed in
Python: the indexes that serve these lists (migration 0028) change no answer. On SQLite and,
when OPENASSIST_TEST_POSTGRES_URL is set, PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openassist.protocol.statuses import InstanceStatus, InvokeRecordStatus
from openassist.server.lifecycle import EXIT_CODE_NONZERO, record_status
from openassist.server.store import invocations, listings
from openassist.server.store.db import Database
from openassist.server.store.paging import PageQuery
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import commands
from openassist.server.store.schema.tasks import invocation_instances as rows_table
from openassist.server.store.schema.tasks import invocations as tasks_table
from tests.support.cluster import postgres_admin_url
from tests.support.store import opened_database

MACHINES = [f"i-{m}" for m in range(4)]
STATUSES = [InstanceStatus.SUCCESS, InstanceStatus.FAILED, InstanceStatus.PENDING]


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres" and not postgres_admin_url():
        pytest.skip("OPENASSIST_TEST_POSTGRES_URL is not set")
    with opened_database(request.param, tmp_path, migrated=True) as database:
        yield database


def _seed(db: Database) -> list[dict[str, Any]]:
    """40 tasks over 4 machines; created_at ties between tasks, rows added after their task,
    every status and both kinds of Failed. Returns the per-instance rows."""
    pick = random.Random(28)
    rows: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for t in range(40):
        created = 1000 + (t // 3) * 10  # three tasks share each creation time
        tasks.append(
            {"id": f"t-{t:03d}", "command_id": f"c-{t % 7}", "repeat_mode": "Once",
             "timeout": 60, "access_key_id": "k", "created_at": created, "status": "Running"}
        )  # fmt: skip
        for machine in pick.sample(MACHINES, pick.randint(1, 4)):
            status = pick.choice(STATUSES)
            error = pick.choice(["", EXIT_CODE_NONZERO]) if status is InstanceStatus.FAILED else ""
            row_created = created + pick.choice([0, 0, 25])  # some added later (a Modify)
            rows.append(
                {"invoke_id": f"t-{t:03d}", "instance_id": machine, "status": status.value,
                 "error_code": error, "created_at": row_created, "update_at": row_created}
            )  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(
            instances.insert(),
            [{"id": m, "public_key": "-", "registered_at": 0} for m in MACHINES],
        )
        conn.execute(
            commands.insert(),
            [
                {
                    "id": f"c-{c}",
                    "type": "RunShellScript",
                    "content": b"",
                    "timeout": 60,
                    "created_at": 0,
                }
                for c in range(7)
            ],
        )
        conn.execute(tasks_table.insert(), tasks)
        conn.execute(rows_table.insert(), rows)
    return rows


def _all_pages(db: Database, where: invocations.ResultFilter) -> tuple[list[tuple[str, str]], int]:
    found: list[tuple[str, str]] = []
    after = None
    with db.engine.connect() as conn:
        while True:
            page = listings.list_results(conn, where, PageQuery(limit=3, after=after))
            found += [(r.invoke_id, r.instance_id) for r in page.items]
            if page.next_key is None:
                return found, page.total
            after = page.next_key


def test_results_by_instance_status_and_command_match_the_oracle(db: Database) -> None:
    rows = _seed(db)
    newest_first = sorted(
        rows, key=lambda r: (r["created_at"], r["invoke_id"], r["instance_id"]), reverse=True
    )
    command_of = {f"t-{t:03d}": f"c-{t % 7}" for t in range(40)}
    checked = 0
    for machine in MACHINES:
        for wanted in [None, *InvokeRecordStatus]:
            for command in [None, "c-3"]:
                expected = [
                    (r["invoke_id"], r["instance_id"])
                    for r in newest_first
                    if r["instance_id"] == machine
                    and (command is None or command_of[r["invoke_id"]] == command)
                    and (
                        wanted is None
                        or record_status(InstanceStatus(r["status"]), r["error_code"]) is wanted
                    )
                ]
                where = invocations.ResultFilter(
                    instance_id=machine, record_status=wanted, command_id=command
                )
                assert _all_pages(db, where) == (expected, len(expected))
                checked += len(expected)
    assert checked > len(rows)  # the oracle is not trivially empty


def test_tasks_by_instance_and_command_match_the_oracle(db: Database) -> None:
    rows = _seed(db)
    created = {f"t-{t:03d}": 1000 + (t // 3) * 10 for t in range(40)}
    for machine in MACHINES:
        for command in [None, "c-2"]:
            ids = {
                r["invoke_id"]
                for r in rows
                if r["instance_id"] == machine
                and (command is None or r["invoke_id"] in _tasks_of(command))
            }
            expected = sorted(ids, key=lambda i: (created[i], i), reverse=True)
            where = invocations.InvocationFilter(instance_id=machine, command_id=command)
            found: list[str] = []
            after = None
            with db.engine.connect() as conn:
                while True:
                    page = listings.list_invocations(conn, where, PageQuery(3, after=after))
                    found += [task.id for task in page.items]
                    assert page.total == len(expected)
                    if page.next_key is None:
                        break
                    after = page.next_key
            assert found == expected


def _tasks_of(command: str) -> set[str]:
    return {f"t-{t:03d}" for t in range(40) if f"c-{t % 7}" == command}
