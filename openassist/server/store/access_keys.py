"""Queries on access keys. The secret column holds only sealed values (``SecretBox``); sealing
and opening happen in ``service.access_keys``."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import Connection, func, select, update

from openassist.server.store.records import AccessKey
from openassist.server.store.schema.access import access_keys

_FIELDS = (
    access_keys.c.id,
    access_keys.c.sealed_secret,
    access_keys.c.owner,
    access_keys.c.enabled,
)


def insert_access_key(conn: Connection, key: AccessKey, now: int) -> None:
    conn.execute(access_keys.insert().values(**asdict(key), created_at=now))


def get_access_key(conn: Connection, key_id: str) -> AccessKey | None:
    row = conn.execute(select(*_FIELDS).where(access_keys.c.id == key_id)).first()
    return AccessKey(**row._mapping) if row else None


def count_access_keys(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(access_keys)) or 0)


def unsealed_access_keys(conn: Connection, sealed_prefix: str) -> list[AccessKey]:
    """Keys whose secret is still in plain text (written by a release before sealing)."""
    query = select(*_FIELDS).where(access_keys.c.sealed_secret.not_like(sealed_prefix + "%"))
    return [AccessKey(**row._mapping) for row in conn.execute(query)]


def set_sealed_secret(conn: Connection, key_id: str, sealed: str) -> None:
    conn.execute(update(access_keys).where(access_keys.c.id == key_id).values(sealed_secret=sealed))
