"""Replay marks: one row per signed request already accepted, until its replay would expire."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from openassist.server.store.schema import replay_marks


def add(conn: Connection, digest: str, expires_at: int) -> None:
    """Record ``digest``; raises IntegrityError (and the caller's transaction rolls back) when it
    is already recorded, which is the replay."""
    conn.execute(replay_marks.insert().values(digest=digest, expires_at=expires_at))


def prune(conn: Connection, now: int) -> int:
    """Forget marks whose requests could no longer be accepted anyway; returns how many."""
    return conn.execute(delete(replay_marks).where(replay_marks.c.expires_at < now)).rowcount
