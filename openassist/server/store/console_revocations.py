"""Console sessions ended by sign-out, kept until they would have expired anyway."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError

from openassist.server.store.schema.request_guards import console_revocations


def add(conn: Connection, sid: str, expires_at: int) -> None:
    try:
        with conn.begin_nested():
            conn.execute(console_revocations.insert().values(sid=sid, expires_at=expires_at))
    except IntegrityError:  # signed out twice (two tabs, two nodes): already revoked
        pass


def is_revoked(conn: Connection, sid: str) -> bool:
    query = select(console_revocations.c.sid).where(console_revocations.c.sid == sid)
    return conn.execute(query).first() is not None


def prune(conn: Connection, now: int) -> int:
    """Forget revocations of sessions that have expired since; returns how many."""
    stale = console_revocations.c.expires_at < now
    return conn.execute(delete(console_revocations).where(stale)).rowcount
