"""Replay marks: one row per signed request already accepted, until its replay would expire."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select

from openassist.server.store.schema.request_guards import replay_marks


def add(conn: Connection, digest: str, expires_at: int) -> None:
    """Record ``digest``; raises IntegrityError (and the caller's transaction rolls back) when it
    is already recorded, which is the replay."""
    conn.execute(replay_marks.insert().values(digest=digest, expires_at=expires_at))


def add_new(conn: Connection, marks: Sequence[tuple[str, int]]) -> list[bool]:
    """Record each (digest, expires_at) not recorded yet, in one statement; True for each that
    was new (a digest twice in ``marks`` is new once). Raises IntegrityError when another writer
    recorded one of them between the look-up and the insert: the caller then adds them singly."""
    digests = [digest for digest, _ in marks]
    query = select(replay_marks.c.digest).where(replay_marks.c.digest.in_(digests))
    seen = set(conn.execute(query).scalars())
    fresh: dict[str, int] = {}
    answers = []
    for digest, expires_at in marks:
        new = digest not in seen and digest not in fresh
        if new:
            fresh[digest] = expires_at
        answers.append(new)
    if fresh:
        rows = [{"digest": digest, "expires_at": at} for digest, at in fresh.items()]
        conn.execute(replay_marks.insert(), rows)
    return answers


def prune(conn: Connection, now: int) -> int:
    """Forget marks whose requests could no longer be accepted anyway; returns how many."""
    return conn.execute(delete(replay_marks).where(replay_marks.c.expires_at < now)).rowcount
