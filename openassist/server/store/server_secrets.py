"""Secrets every node holds alike (sealed by the caller): created once, by whichever node gets
there first; the others read that one."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from openassist.server.store.schema.settings import server_secrets


def create_once(conn: Connection, name: str, sealed: str, now: int) -> str:
    """The sealed value of ``name``: ``sealed`` when this call created it, else the one another
    node (or an earlier start) created; two nodes creating it at once agree on one."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(server_secrets)
        .values(name=name, sealed=sealed, created_at=now)
        .on_conflict_do_nothing()
    )
    kept = conn.scalar(select(server_secrets.c.sealed).where(server_secrets.c.name == name))
    return str(kept)
