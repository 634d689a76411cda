"""Target sets (migration 0044) through the store's own write paths: a task written by
store.invocations names the set of its instances, a ModifyInvocationAttribute that adds an
instance (add_rows) moves the task to the grown set, and a RAM-limited DescribeInvocations
follows: the list, its pages and its TotalCount. Two fan-outs to the same machines share one
stored set. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openassist.protocol.statuses import InstanceStatus, InvocationStatus, RepeatMode
from openassist.server.store import invocations, listings, target_sets
from openassist.server.store.db import Database
from openassist.server.store.invocations import InvocationFilter
from openassist.server.store.paging import PageQuery
from openassist.server.store.records import Invocation, InvocationInstance
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import commands
from openassist.server.store.schema.tasks import invocations as tasks_table
from openassist.server.store.schema.tasks import target_sets as set_rows
from tests.conftest import BACKENDS
from tests.support.store import opened_database

MACHINES = [f"i-{m}" for m in range(4)]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with opened_database(request.param, tmp_path, migrated=True) as database:
        with database.engine.begin() as conn:
            conn.execute(instances.insert(), [
                {"id": m, "public_key": "-", "registered_at": 0} for m in MACHINES])  # fmt: skip
            conn.execute(commands.insert().values(
                id="c-1", type="RunBatScript", content=b"", timeout=60, created_at=0))  # fmt: skip
        yield database


def _row(invoke_id: str, machine: str) -> InvocationInstance:
    return InvocationInstance(
        invoke_id, machine, InstanceStatus.PENDING, "", "", None, b"", 0, 0, 0, None, None, None,
        None, 0,
    )  # fmt: skip


def _task(db: Database, invoke_id: str, created_at: int, on: list[str]) -> None:
    task = Invocation(
        id=invoke_id, command_id="c-1", repeat_mode=RepeatMode.PERIOD, frequency="", timeout=60,
        working_dir="", username="", parameters="{}", termination_mode=None,
        status=InvocationStatus.PENDING, access_key_id="k", created_at=created_at,
    )  # fmt: skip
    with db.engine.begin() as conn:
        invocations.insert_invocation(conn, task, [_row(invoke_id, m) for m in on])


def _seen_by(db: Database, visible: tuple[str, ...]) -> tuple[list[str], int]:
    """Every task a caller seeing ``visible`` pages through (2 a page), and the TotalCount."""
    found: list[str] = []
    totals = set()
    after = None
    with db.engine.connect() as conn:
        while True:
            where = InvocationFilter(visible=visible)
            page = listings.list_invocations(conn, where, PageQuery(limit=2, after=after))
            found += [t.id for t in page.items]
            totals.add(page.total)
            if page.next_key is None:
                break
            after = page.next_key
    assert len(totals) == 1
    return found, totals.pop()


@pytest.mark.parametrize("few", [0, 10**6], ids=["walk-in-order", "gather-and-sort"])
def test_a_grown_task_is_seen_by_its_new_instance(
    db: Database, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listings, "FEW", few)
    _task(db, "t-1", 10, ["i-0", "i-1"])
    _task(db, "t-2", 20, ["i-1", "i-0"])  # the same machines: the same set
    _task(db, "t-3", 30, ["i-2"])
    with db.engine.connect() as conn:
        named = dict(conn.execute(select(tasks_table.c.id, tasks_table.c.target_set)).all())
        assert named["t-1"] == named["t-2"] == target_sets.name_of(["i-0", "i-1"])
        assert conn.scalar(select(func.count()).select_from(set_rows)) == 3  # {0, 1} and {2}
        kinds = set(conn.scalars(select(tasks_table.c.command_type)))
    assert kinds == {"RunBatScript"}  # set by the trigger, not by the writer
    assert _seen_by(db, ("i-3",)) == ([], 0)
    assert _seen_by(db, ("i-1", "i-2")) == (["t-3", "t-2", "t-1"], 3)
    with db.engine.begin() as conn:  # ModifyInvocationAttribute's AddInstances
        invocations.add_rows(conn, [_row("t-1", "i-3")])
    assert _seen_by(db, ("i-3",)) == (["t-1"], 1)
    assert _seen_by(db, ("i-3", "i-0")) == (["t-2", "t-1"], 2)
    with db.engine.connect() as conn:
        where = InvocationFilter(visible=("i-3",), command_type="RunBatScript")
        assert listings.list_invocations(conn, where, PageQuery(limit=5)).total == 1
        where = InvocationFilter(visible=("i-3",), command_type="RunShellScript")
        assert listings.list_invocations(conn, where, PageQuery(limit=5)).total == 0
