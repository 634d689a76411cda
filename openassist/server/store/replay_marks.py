"""Replay marks: one row per signed request already accepted, until its replay would expire."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Insert, delete
from sqlalchemy.dialects import postgresql, sqlite

from openassist.server.store.schema.request_guards import replay_marks

# Built once: every signed request (each agent call, each API call) records a mark, and building
# and keying the statement anew each time cost more than running it.
_ADD_NEW: dict[str, Insert] = {
    name: dialect.insert(replay_marks)
    .on_conflict_do_nothing(index_elements=[replay_marks.c.digest])
    .returning(replay_marks.c.digest)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def add_new(conn: Connection, marks: Sequence[tuple[str, int]]) -> list[bool]:
    """Record each (digest, expires_at) not recorded yet, in one statement that skips the
    recorded ones (also those another writer records meanwhile: the replay); True for each that
    was new (a digest twice in ``marks`` is new once)."""
    fresh: dict[str, int] = {}
    for digest, expires_at in marks:
        fresh.setdefault(digest, expires_at)
    # In digest order: two writers inserting overlapping batches wait on each other's rows in
    # one order (PostgreSQL), never in a cycle.
    rows = [{"digest": digest, "expires_at": fresh[digest]} for digest in sorted(fresh)]
    added = set(conn.execute(_ADD_NEW[conn.dialect.name], rows).scalars())
    answers = []
    for digest, _ in marks:
        answers.append(digest in added)
        added.discard(digest)  # its second copy in ``marks`` is a replay
    return answers


def prune(conn: Connection, now: int) -> int:
    """Forget marks whose requests could no longer be accepted anyway; returns how many."""
    return conn.execute(delete(replay_marks).where(replay_marks.c.expires_at < now)).rowcount
