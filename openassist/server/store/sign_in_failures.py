"""Failed console sign-ins per key (a user, an address, a device), one row each, changed under a
row lock so every node counts into the same row."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openassist.server.store.schema.request_guards import console_sign_in_failures as failures

f = failures.c


def locked_until(conn: Connection, keys: list[str]) -> int:
    """The latest ``locked_until`` (ms) among ``keys``; 0 when none is locked."""
    rows = conn.execute(select(f.locked_until).where(f.key.in_(keys)))
    return max((int(row.locked_until) for row in rows), default=0)


def taken(conn: Connection, key: str, now: int) -> tuple[int, int, int]:
    """(count, last_at, locked_until) of ``key``, locked for this transaction's update; a new
    key starts at (0, now, 0). Two nodes creating it at once both go on to the lock."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(failures)
        .values(key=key, count=0, last_at=now, locked_until=0)
        .on_conflict_do_nothing()
    )
    count, last_at, until = conn.execute(
        select(f.count, f.last_at, f.locked_until).where(f.key == key).with_for_update()
    ).one()
    return int(count), int(last_at), int(until)


def put(conn: Connection, key: str, count: int, last_at: int, until: int) -> None:
    conn.execute(
        update(failures)
        .where(f.key == key)
        .values(count=count, last_at=last_at, locked_until=until)
    )


def clear(conn: Connection, keys: list[str]) -> None:
    conn.execute(delete(failures).where(f.key.in_(keys)))


def prune(conn: Connection, before: int) -> int:
    """Forget keys with no failure since ``before`` (ms); returns how many."""
    return conn.execute(delete(failures).where(f.last_at < before)).rowcount
