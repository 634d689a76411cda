"""The API's token buckets in the store: one row per access key, taken under a row lock so
every node spends from the same bucket."""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openassist.server.store.schema.request_guards import api_rate_buckets as buckets

MILLI = 1000


def take(conn: Connection, key_id: str, rate: float, burst: float, now_ms: int) -> float:
    """Spend one request from ``key_id``'s bucket (``rate`` per second, ``burst`` at most);
    returns 0 when taken, else the seconds until one is there."""
    full = int(burst * MILLI)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # A new key's bucket starts full; two nodes creating it at once both go on to the lock.
    conn.execute(
        dialect.insert(buckets)
        .values(key_id=key_id, millitokens=full, at_ms=now_ms)
        .on_conflict_do_nothing()
    )
    row = conn.execute(
        select(buckets.c.millitokens, buckets.c.at_ms)
        .where(buckets.c.key_id == key_id)
        .with_for_update()
    ).one()
    elapsed_ms = max(0, now_ms - int(row.at_ms))
    level = min(full, int(row.millitokens) + int(elapsed_ms * rate))  # rate: milli per ms
    taken = level >= MILLI
    conn.execute(
        update(buckets)
        .where(buckets.c.key_id == key_id)
        .values(millitokens=level - MILLI if taken else level, at_ms=max(now_ms, int(row.at_ms)))
    )
    return 0.0 if taken else (MILLI - level) / (rate * MILLI)
