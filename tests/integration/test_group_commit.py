"""Group commit (store/group_commit.py) on real SQLite and PostgreSQL: writes that arrive while
one is in flight share a transaction; each is answered after its commit; one bad write, or a
batch whose commit fails, loses nothing of the others."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from openassist.server.store.db import Database, note_task_changed
from tests.conftest import BACKENDS
from tests.support.cluster import temporary_postgres_database

WRITES = 60


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres":
        with temporary_postgres_database() as url:
            database = Database(url)
            yield from _with_tables(database)
    else:
        yield from _with_tables(Database(f"sqlite:///{tmp_path / 'store.db'}"))


def _with_tables(database: Database) -> Iterator[Database]:
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(
            text(
                "CREATE TABLE item (id INTEGER PRIMARY KEY, parent INTEGER"
                " REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
        conn.execute(text("INSERT INTO parent (id) VALUES (1)"))
    try:
        yield database
    finally:
        database.close()


def _insert(item: int, parent: int = 1) -> object:
    def work(conn: Connection) -> int:
        conn.execute(
            text("INSERT INTO item (id, parent) VALUES (:i, :p)"), {"i": item, "p": parent}
        )
        note_task_changed(conn, f"t-{item}")
        return item

    return work


def _stored(db: Database) -> set[int]:
    with db.engine.connect() as conn:
        return set(conn.execute(text("SELECT id FROM item")).scalars())


async def _together(db: Database, works: list[object]) -> list[object]:
    return await asyncio.gather(
        *(db.write_grouped(work) for work in works),  # type: ignore[arg-type]
        return_exceptions=True,
    )


def test_writes_that_arrive_together_share_transactions_and_each_gets_its_answer(
    db: Database,
) -> None:
    answers = asyncio.run(_together(db, [_insert(n) for n in range(WRITES)]))
    assert answers == list(range(WRITES))
    assert _stored(db) == set(range(WRITES))
    assert db.grouped.batches >= 1  # the first went alone, the rest waited and went together


def test_a_write_alone_is_not_batched(db: Database) -> None:
    async def one_by_one() -> list[object]:
        return [await db.write_grouped(_insert(n)) for n in range(3)]  # type: ignore[arg-type]

    assert asyncio.run(one_by_one()) == [0, 1, 2]
    assert db.grouped.batches == 0
    assert _stored(db) == {0, 1, 2}


def test_a_failing_write_is_rolled_back_alone_and_its_batch_commits(db: Database) -> None:
    def half_then_fail(conn: Connection) -> None:
        conn.execute(text("INSERT INTO item (id, parent) VALUES (1000, 1)"))
        conn.execute(text("INSERT INTO item (id, parent) VALUES (5, 1)"))  # taken: fails

    works: list[object] = [_insert(n) for n in range(10)]
    works[7] = half_then_fail
    answers = asyncio.run(_together(db, works))
    assert isinstance(answers[7], IntegrityError)
    assert [a for n, a in enumerate(answers) if n != 7] == [n for n in range(10) if n != 7]
    assert db.grouped.batches >= 1
    assert _stored(db) == {n for n in range(10) if n != 7}  # nothing of 1000


def test_a_batch_whose_commit_fails_writes_each_of_its_writes_alone(db: Database) -> None:
    # A deferred foreign key is checked at COMMIT only: the whole batch's commit is refused.
    works: list[object] = [_insert(n) for n in range(10)]
    works[4] = _insert(4, parent=99)
    answers = asyncio.run(_together(db, works))
    assert isinstance(answers[4], IntegrityError)
    assert [a for n, a in enumerate(answers) if n != 4] == [n for n in range(10) if n != 4]
    assert _stored(db) == {n for n in range(10) if n != 4}


def test_waiters_are_told_after_the_commit_of_every_write_in_the_batch(db: Database) -> None:
    told: list[tuple[frozenset[str], set[int]]] = []

    async def on_changed(invoke_ids: frozenset[str]) -> None:
        told.append((invoke_ids, _stored(db)))  # what another connection sees by now

    db.on_tasks_changed = on_changed
    asyncio.run(_together(db, [_insert(n) for n in range(WRITES)]))
    heard = set().union(*(ids for ids, _ in told))
    assert heard == {f"t-{n}" for n in range(WRITES)}
    for ids, visible in told:
        assert {int(i.removeprefix("t-")) for i in ids} <= visible


def test_a_batch_runs_its_writes_in_lock_order_and_answers_each_its_own(db: Database) -> None:
    ran: list[int] = []

    def work(item: int) -> Callable[[Connection], int]:
        def insert(conn: Connection) -> int:
            ran.append(item)
            conn.execute(text("INSERT INTO item (id, parent) VALUES (:i, 1)"), {"i": item})
            return item

        return insert

    keys = ["t-b", "t-a", "", "t-b", "t-a"]  # "": a write that locks no shared row, first

    async def main() -> list[int]:
        first = asyncio.create_task(db.write_grouped(work(100)))  # alone: the rest wait for it
        writes = [db.write_grouped(work(n), key) for n, key in enumerate(keys)]
        return [await first, *await asyncio.gather(*writes)]

    answers = asyncio.run(main())
    assert answers == [100, 0, 1, 2, 3, 4]
    assert ran == [100, 2, 1, 4, 0, 3]  # by key, arrival order among equal keys
    assert _stored(db) == {100, 0, 1, 2, 3, 4}
