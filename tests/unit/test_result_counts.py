"""The result and task tallies (migrations 0036, 0037) and the lists built on them: every
filter of DescribeInvocations and DescribeInvocationResults gives the rows and the TotalCount of an
oracle computed in Python, by either way of reading a page; keyset paging loses and doubles no
row while rows are added; the migration goes up and down with rows in the store. On SQLite and,
when OPENASSIST_TEST_POSTGRES_URL is set, PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, func, inspect, select, text, update

import openassist.server.store.db as store_db
from openassist.protocol.statuses import InstanceStatus, InvokeRecordStatus
from openassist.server.lifecycle import EXIT_CODE_NONZERO, record_status
from openassist.server.service.store_upkeep import StoreUpkeep
from openassist.server.store import listings, result_counts, target_sets
from openassist.server.store.db import Database
from openassist.server.store.invocations import InvocationFilter, ResultFilter
from openassist.server.store.paging import PageQuery
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tallies import result_counts as tallies
from openassist.server.store.schema.tallies import task_counts
from openassist.server.store.schema.tasks import commands
from openassist.server.store.schema.tasks import invocation_instances as rows_table
from openassist.server.store.schema.tasks import invocations as tasks_table
from openassist.server.store.schema.tasks import tags as tags_table
from openassist.server.store.schema.tasks import target_sets as target_set_rows
from tests.conftest import BACKENDS
from tests.support.store import opened_database

MACHINES = [f"i-{m}" for m in range(5)]
STATUSES = list(InstanceStatus)
ERRORS = ["", EXIT_CODE_NONZERO, "InstanceNotRunning"]
TASK_STATUSES = ["Success", "Failed", "PartialFailed", "Running", "Stopped", "Scheduled"]
MODES = ["Once", "Once", "Period", "EveryReboot"]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with opened_database(request.param, tmp_path) as database:
        database.migrate()
        yield database


class Store:
    """A seeded store and its contents as Python rows: the oracle."""

    def __init__(self, db: Database, seed: int) -> None:
        self.db = db
        self.pick = random.Random(seed)
        self.tasks: dict[str, dict[str, Any]] = {}
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.commands = {f"c-{c}": (f"name-{c % 3}", "RunShellScript" if c % 2 else "RunBat")
                         for c in range(6)}  # fmt: skip
        with db.engine.begin() as conn:
            conn.execute(instances.insert(), [
                {"id": m, "public_key": "-", "registered_at": 0} for m in MACHINES])  # fmt: skip
            conn.execute(commands.insert(), [
                {"id": c, "name": name, "type": kind, "content": b"", "timeout": 60,
                 "created_at": 0} for c, (name, kind) in self.commands.items()])  # fmt: skip
        self.clock = 1000
        self.known_sets = True  # False: at a revision before target sets (0044)

    def add_tasks(self, count: int) -> None:
        """``count`` new tasks, each on 1-5 machines; creation times tie in threes. One
        multi-row INSERT of rows for all of them (a fan-out)."""
        tasks, rows, labels, sets = [], [], [], []
        for _ in range(count):
            t = len(self.tasks)
            self.clock += 10 if t % 3 == 0 else 0
            invoke_id = f"t-{t:04d}"
            task = {"id": invoke_id, "command_id": f"c-{t % 6}", "timeout": 60,
                    "repeat_mode": self.pick.choice(MODES), "access_key_id": "k",
                    "created_at": self.clock,
                    "status": self.pick.choice(TASK_STATUSES)}  # fmt: skip
            self.tasks[invoke_id] = task
            tasks.append(task)
            self.tags[invoke_id] = {"env": self.pick.choice(["prod", "dev"])}
            if t % 4 == 0:
                self.tags[invoke_id]["team"] = "db"
            labels += [{"resource_type": "invocation", "resource_id": invoke_id, "key": k,
                        "value": v} for k, v in self.tags[invoke_id].items()]  # fmt: skip
            on = self.pick.sample(MACHINES, self.pick.randint(1, 5))
            if t % 3 and self.known_sets:  # as store.invocations writes it; others not known
                task["target_set"] = target_sets.name_of(on)
                sets.append(on)
            elif self.known_sets:
                task["target_set"] = target_sets.UNKNOWN
            for machine in on:
                status = self.pick.choice(STATUSES)
                row = {"invoke_id": invoke_id, "instance_id": machine, "status": status.value,
                       "error_code": self.pick.choice(ERRORS), "created_at": self.clock,
                       "update_at": self.clock}  # fmt: skip
                self.rows[(invoke_id, machine)] = row
                rows.append(row)
        with self.db.engine.begin() as conn:
            for on in sets:
                target_sets.ensure(conn, on)
            conn.execute(tasks_table.insert(), tasks)
            conn.execute(tags_table.insert(), labels)
            conn.execute(rows_table.insert(), rows)

    def change_rows(self, count: int) -> None:
        """Reports: status and error code changes one row at a time, one UPDATE of several
        rows, and an UPDATE that changes neither."""
        with self.db.engine.begin() as conn:
            for key in self.pick.sample(sorted(self.rows), count):
                row = self.rows[key]
                row["status"] = self.pick.choice(STATUSES).value
                row["error_code"] = self.pick.choice(ERRORS)
                conn.execute(update(rows_table).where(
                    rows_table.c.invoke_id == key[0], rows_table.c.instance_id == key[1]
                ).values(status=row["status"], error_code=row["error_code"]))  # fmt: skip
            machine = self.pick.choice(MACHINES)
            conn.execute(update(rows_table).where(rows_table.c.instance_id == machine)
                         .values(status="Terminated", error_code=""))  # fmt: skip
            conn.execute(update(rows_table).values(update_at=rows_table.c.update_at + 1))
            for invoke_id in self.pick.sample(sorted(self.tasks), min(count, len(self.tasks))):
                task = self.tasks[invoke_id]  # the overall status follows (refresh_overall)
                task["status"] = self.pick.choice(TASK_STATUSES)
                task["repeat_mode"] = self.pick.choice(MODES)
                conn.execute(update(tasks_table).where(tasks_table.c.id == invoke_id).values(
                    status=task["status"], repeat_mode=task["repeat_mode"]))  # fmt: skip
        for row in self.rows.values():
            if row["instance_id"] == machine:
                row["status"], row["error_code"] = "Terminated", ""

    def delete_rows(self, count: int) -> None:
        with self.db.engine.begin() as conn:
            for key in self.pick.sample(sorted(self.rows), count):
                del self.rows[key]
                gone = delete(rows_table).where(
                    rows_table.c.invoke_id == key[0], rows_table.c.instance_id == key[1]
                )
                conn.execute(gone)

    def results(self, where: ResultFilter) -> list[tuple[str, str]]:
        def matches(row: dict[str, Any]) -> bool:
            wanted = where.record_status
            status = record_status(InstanceStatus(row["status"]), row["error_code"])
            return (
                (where.invoke_id is None or row["invoke_id"] == where.invoke_id)
                and (where.instance_id is None or row["instance_id"] == where.instance_id)
                and (where.visible is None or row["instance_id"] in where.visible)
                and (where.command_id is None
                     or self.tasks[row["invoke_id"]]["command_id"] == where.command_id)
                and (wanted is None or status is wanted)
            )  # fmt: skip

        found = [r for r in self.rows.values() if matches(r)]
        found.sort(key=lambda r: (r["created_at"], r["invoke_id"], r["instance_id"]), reverse=True)
        return [(r["invoke_id"], r["instance_id"]) for r in found]

    def invocations(self, where: InvocationFilter) -> list[str]:
        on: dict[str, set[str]] = {}
        for invoke_id, machine in self.rows:
            on.setdefault(invoke_id, set()).add(machine)

        def matches(task: dict[str, Any]) -> bool:
            name, kind = self.commands[task["command_id"]]
            timed = task["repeat_mode"] != "Once" and task["status"] in (
                "Pending", "Scheduled", "Running", "Stopping")  # fmt: skip
            machines = on.get(task["id"], set())
            labels = self.tags[task["id"]]
            return (
                (where.invoke_id is None or task["id"] == where.invoke_id)
                and (where.instance_id is None or where.instance_id in machines)
                and (where.visible is None or bool(machines & set(where.visible)))
                and (where.statuses is None or task["status"] in where.statuses)
                and (where.repeat_mode is None or task["repeat_mode"] == where.repeat_mode)
                and (where.command_id is None or task["command_id"] == where.command_id)
                and (where.command_name is None or name == where.command_name)
                and (where.command_type is None or kind == where.command_type)
                and (where.timed is None or timed == where.timed)
                and (where.created_from is None or task["created_at"] >= where.created_from)
                and (where.created_to is None or task["created_at"] < where.created_to)
                and all(labels.get(k) == v or (k in labels and not v) for k, v in where.tags)
            )

        found = [t for t in self.tasks.values() if matches(t)]
        found.sort(key=lambda t: (t["created_at"], t["id"]), reverse=True)
        return [t["id"] for t in found]


def _result_filters() -> list[ResultFilter]:
    out = [ResultFilter(invoke_id="t-0003"), ResultFilter(command_id="c-2"),
           ResultFilter(invoke_id="t-0004", instance_id="i-1")]  # fmt: skip
    for machine in [None, *MACHINES]:
        for wanted in [None, *InvokeRecordStatus]:
            for visible in [None, ("i-0", "i-3")]:
                out.append(ResultFilter(instance_id=machine, record_status=wanted, visible=visible))
    return out


def _task_filters() -> list[InvocationFilter]:
    F = InvocationFilter
    out = [F(), F(invoke_id="t-0002"), F(command_id="c-1"), F(command_name="name-2"),
           F(command_type="RunBat"), F(repeat_mode="Period"), F(timed=True), F(timed=False),
           F(statuses=("Failed",)), F(statuses=("Success", "Failed", "PartialFailed", "Stopped")),
           F(tags=(("env", "prod"),)), F(tags=(("team", ""),)),
           F(tags=(("env", "dev"), ("team", "db"))), F(created_from=1100, created_to=1300),
           F(visible=("i-1", "i-4")), F(instance_id="i-2", statuses=("Running",)),
           F(instance_id="i-3", visible=("i-1",))]  # fmt: skip
    out += [F(instance_id=m) for m in MACHINES]
    return out


def _pages(list_of: Callable[[PageQuery], Any], size: int) -> tuple[list[Any], set[int]]:
    """Every page by NextToken; returns the keys in order and the totals seen."""
    found: list[Any] = []
    totals: set[int] = set()
    after = None
    while True:
        page = list_of(PageQuery(limit=size, after=after))
        found += page.items
        totals.add(page.total)
        if page.next_key is None:
            return found, totals
        after = page.next_key


def _result_keys(items: list[Any]) -> list[tuple[str, str]]:
    return [(r.invoke_id, r.instance_id) for r in items]


def _check_all_filters(store: Store, conn: Connection) -> int:
    checked = 0
    for where in _result_filters():
        expected = store.results(where)
        found, totals = _pages(_results_of(conn, where), 7)
        assert (_result_keys(found), totals) == (expected, {len(expected)}), where
        second = listings.list_results(conn, where, PageQuery(limit=4, offset=4))
        assert _result_keys(second.items) == expected[4:8], where
        checked += len(expected)
    for task_filter in _task_filters():
        expected_ids = store.invocations(task_filter)
        tasks, totals = _pages(_tasks_of(conn, task_filter), 7)
        assert ([t.id for t in tasks], totals) == (expected_ids, {len(expected_ids)}), task_filter
        later = listings.list_invocations(conn, task_filter, PageQuery(limit=4, offset=4))
        assert [t.id for t in later.items] == expected_ids[4:8], task_filter
        checked += len(expected_ids)
    return checked


def _results_of(conn: Connection, where: ResultFilter) -> Callable[[PageQuery], Any]:
    return lambda page: listings.list_results(conn, where, page)


def _tasks_of(conn: Connection, where: InvocationFilter) -> Callable[[PageQuery], Any]:
    return lambda page: listings.list_invocations(conn, where, page)


def _tallies_agree(db: Database) -> None:
    key = (rows_table.c.instance_id, rows_table.c.status, rows_table.c.error_code)
    with db.engine.connect() as conn:
        counted = conn.execute(select(*key, func.count()).group_by(*key))
        truth = {(m, s, e): n for m, s, e, n in counted}
        kept: dict[tuple[str, str, str], int] = {}
        for m, s, e, n in conn.execute(select(tallies)):
            kept[(m, s, e)] = kept.get((m, s, e), 0) + int(n)
    assert {k: n for k, n in kept.items() if n} == truth
    t = tasks_table.c
    task_key = (t.status, t.repeat_mode, t.command_type, t.target_set)
    with db.engine.connect() as conn:
        counted = conn.execute(select(*task_key, func.count()).group_by(*task_key))
        task_truth = {tuple(row[:-1]): row[-1] for row in counted}
        task_kept: dict[tuple[str, ...], int] = {}
        c = task_counts.c
        for row in conn.execute(select(c.status, c.repeat_mode, c.command_type, c.target_set, c.n)):
            task_kept[tuple(row[:-1])] = task_kept.get(tuple(row[:-1]), 0) + int(row[-1])
        # Each task's command type is its command's, whoever wrote it (migration 0044).
        kinds = select(t.command_type, commands.c.type).join(
            commands, commands.c.id == t.command_id
        )
        assert all(kept == kind for kept, kind in conn.execute(kinds))
    assert {k: n for k, n in task_kept.items() if n} == task_truth


@pytest.mark.parametrize("few", [0, 10**6], ids=["walk-in-order", "gather-and-sort"])
def test_every_filter_matches_the_oracle_through_changes_and_folds(
    db: Database, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listings, "FEW", few)
    store = Store(db, seed=30)
    store.add_tasks(45)
    _tallies_agree(db)
    store.change_rows(25)
    store.delete_rows(6)
    store.add_tasks(6)
    _tallies_agree(db)
    with db.engine.connect() as conn:
        assert _check_all_filters(store, conn) > 3 * len(store.rows)
    with db.engine.begin() as conn:
        assert result_counts.compact(conn) > 0
    _tallies_agree(db)
    with db.engine.connect() as conn:
        rows = conn.execute(select(tallies.c.instance_id, tallies.c.status, tallies.c.error_code))
        keys = [tuple(r) for r in rows]
        assert len(keys) == len(set(keys))  # one row per key once folded
        with db.engine.begin() as writer:
            assert result_counts.compact(writer) == 0
        _check_all_filters(store, conn)


@pytest.mark.parametrize("few", [0, 30, 10**6])
def test_keyset_paging_loses_and_doubles_nothing_while_rows_are_added(
    db: Database, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between pages, new tasks arrive (newer rows) and reports change statuses; every row that
    was there at the start is seen exactly once. ``few=30`` crosses from gathering a few rows
    to walking the list in order while paging."""
    monkeypatch.setattr(listings, "FEW", few)
    store = Store(db, seed=31)
    store.add_tasks(8)
    for where in [ResultFilter(), ResultFilter(instance_id="i-1"), ResultFilter(visible=("i-2",))]:
        at_start = set(store.results(where))
        seen: list[tuple[str, str]] = []
        after = None
        with db.engine.connect() as conn:
            while True:
                page = listings.list_results(conn, where, PageQuery(limit=3, after=after))
                seen += _result_keys(page.items)
                store.add_tasks(2)
                if page.next_key is None:
                    break
                after = page.next_key
        assert len(seen) == len(set(seen))
        assert at_start <= set(seen)
    tasks_at_start = set(store.invocations(InvocationFilter()))
    seen_tasks: list[str] = []
    after = None
    with db.engine.connect() as conn:
        while True:
            found = listings.list_invocations(conn, InvocationFilter(), PageQuery(3, after=after))
            seen_tasks += [t.id for t in found.items]
            store.add_tasks(2)
            if found.next_key is None:
                break
            after = found.next_key
    assert len(seen_tasks) == len(set(seen_tasks))
    assert tasks_at_start <= set(seen_tasks)


def _alembic(connection: Connection, action: Callable[[Config, str], None], to: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(store_db.__file__).with_name("migrations")))
    config.attributes["connection"] = connection
    action(config, to)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_goes_up_and_down_with_results_in_the_store(
    backend: str, tmp_path: Path
) -> None:
    with opened_database(backend, tmp_path) as database:
        with database.engine.begin() as conn:
            _alembic(conn, command.upgrade, "0035")
        store = Store(database, seed=32)
        store.known_sets = False
        store.add_tasks(10)
        database.migrate()  # 0036 and 0037 tally the rows already there, 0044 names their sets
        _tallies_agree(database)
        _sets_known(database, store)
        store.change_rows(5)
        _tallies_agree(database)
        with database.engine.begin() as conn:
            _alembic(conn, command.downgrade, "0035")
        with database.engine.connect() as conn:
            assert not inspect(conn).has_table("result_counts")
        store.add_tasks(3)  # no trigger left behind to write into a missing table
        store.change_rows(3)
        database.migrate()
        _tallies_agree(database)
        _sets_known(database, store)
        with database.engine.connect() as conn:
            _check_all_filters(store, conn)
        with database.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version == next(iter(Database.head_revisions()))


def _sets_known(db: Database, store: Store) -> None:
    """Every task's target set is named after the instances of its rows (the migration's
    names are store.target_sets' names), and its members are stored."""
    on: dict[str, list[str]] = {}
    for invoke_id, machine in store.rows:
        on.setdefault(invoke_id, []).append(machine)
    with db.engine.connect() as conn:
        named = dict(conn.execute(select(tasks_table.c.id, tasks_table.c.target_set)).all())
        members: dict[str, set[str]] = {}
        for name, machine in conn.execute(select(target_set_rows)):
            members.setdefault(name, set()).add(machine)
    assert named == {t: target_sets.name_of(on.get(t, [])) for t in store.tasks}
    assert all(members[named[t]] == set(machines) for t, machines in on.items())


def test_the_upkeep_folds_what_came_and_leaves_a_folded_store_alone(db: Database) -> None:
    store = Store(db, seed=33)
    upkeep = StoreUpkeep(db)
    store.add_tasks(12)
    store.change_rows(8)
    with db.engine.connect() as conn:
        before = result_counts.rows(conn)
    assert asyncio.run(upkeep.once(analyze=True)) > 0
    with db.engine.connect() as conn:
        assert result_counts.rows(conn) < before
    _tallies_agree(db)
    assert asyncio.run(upkeep.once(analyze=False)) == 0  # nothing came: nothing to fold
    store.change_rows(3)
    assert asyncio.run(upkeep.once(analyze=False)) > 0
    _tallies_agree(db)
