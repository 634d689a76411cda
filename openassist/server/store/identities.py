"""Queries on RAM users, custom policies, their versions and their attachments to users."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update

from openassist.server.store.records import AccessKey, Attachment, PolicyVersion, RamPolicy, RamUser
from openassist.server.store.schema.access import (
    access_keys,
    ram_policies,
    ram_policy_versions,
    ram_user_policies,
    ram_users,
)

CUSTOM = "Custom"


def insert_user(conn: Connection, user: RamUser) -> None:
    conn.execute(ram_users.insert().values(**asdict(user)))


def get_user(conn: Connection, name: str) -> RamUser | None:
    row = conn.execute(select(ram_users).where(ram_users.c.name == name)).first()
    return RamUser(**row._mapping) if row else None


def get_user_by_id(conn: Connection, user_id: str) -> RamUser | None:
    row = conn.execute(select(ram_users).where(ram_users.c.id == user_id)).first()
    return RamUser(**row._mapping) if row else None


def count_users(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(ram_users)) or 0)


def list_users(conn: Connection, after: str, limit: int) -> list[RamUser]:
    """Users by name, those after ``after`` (a Marker), at most ``limit``."""
    query = select(ram_users).where(ram_users.c.name > after).order_by(ram_users.c.name)
    return [RamUser(**row._mapping) for row in conn.execute(query.limit(limit))]


def update_user(conn: Connection, user_id: str, **values: Any) -> None:
    conn.execute(update(ram_users).where(ram_users.c.id == user_id).values(**values))


def update_user_by_name(conn: Connection, name: str, **values: Any) -> None:
    conn.execute(update(ram_users).where(ram_users.c.name == name).values(**values))


def delete_user(conn: Connection, user_id: str) -> None:
    conn.execute(delete(ram_users).where(ram_users.c.id == user_id))


def keys_of(conn: Connection, user_id: str) -> list[tuple[AccessKey, int]]:
    """The user's access keys with their creation times, oldest first."""
    query = (
        select(access_keys)
        .where(access_keys.c.owner == user_id)
        .order_by(access_keys.c.created_at, access_keys.c.id)
    )
    return [
        (AccessKey(row.id, row.sealed_secret, row.owner, row.enabled), row.created_at)
        for row in conn.execute(query)
    ]


def set_key_enabled(conn: Connection, key_id: str, enabled: bool) -> None:
    conn.execute(update(access_keys).where(access_keys.c.id == key_id).values(enabled=enabled))


def delete_key(conn: Connection, key_id: str) -> None:
    conn.execute(delete(access_keys).where(access_keys.c.id == key_id))


def adopt_orphan_keys(conn: Connection, user_id: str) -> int:
    """Give every key whose owner is no user (keys of releases before users) to ``user_id``."""
    known = select(ram_users.c.id)
    result = conn.execute(
        update(access_keys).where(access_keys.c.owner.not_in(known)).values(owner=user_id)
    )
    return int(result.rowcount or 0)


def insert_policy(conn: Connection, policy: RamPolicy, now: int) -> None:
    conn.execute(
        ram_policies.insert().values(
            name=policy.name,
            description=policy.description,
            default_version=policy.default_version,
            created_at=now,
            updated_at=now,
        )
    )
    insert_version(conn, PolicyVersion(policy.name, policy.default_version, policy.document, now))


def insert_version(conn: Connection, version: PolicyVersion) -> None:
    conn.execute(ram_policy_versions.insert().values(**asdict(version)))


def _policy_query() -> Any:
    return select(
        ram_policies.c.name,
        ram_policies.c.description,
        ram_policies.c.default_version,
        ram_policies.c.created_at,
        ram_policies.c.updated_at,
        ram_policy_versions.c.document,
    ).join(
        ram_policy_versions,
        and_(
            ram_policy_versions.c.policy_name == ram_policies.c.name,
            ram_policy_versions.c.version_id == ram_policies.c.default_version,
        ),
    )


def get_policy(conn: Connection, name: str) -> RamPolicy | None:
    row = conn.execute(_policy_query().where(ram_policies.c.name == name)).first()
    return RamPolicy(**row._mapping) if row else None


def list_policies(conn: Connection) -> list[RamPolicy]:
    rows = conn.execute(_policy_query().order_by(ram_policies.c.name))
    return [RamPolicy(**row._mapping) for row in rows]


def versions_of(conn: Connection, name: str) -> list[PolicyVersion]:
    query = (
        select(ram_policy_versions)
        .where(ram_policy_versions.c.policy_name == name)
        .order_by(ram_policy_versions.c.created_at, ram_policy_versions.c.version_id)
    )
    return [PolicyVersion(**row._mapping) for row in conn.execute(query)]


def set_default_version(conn: Connection, name: str, version_id: str, now: int) -> None:
    conn.execute(
        update(ram_policies)
        .where(ram_policies.c.name == name)
        .values(default_version=version_id, updated_at=now)
    )


def delete_version(conn: Connection, name: str, version_id: str) -> None:
    conn.execute(
        delete(ram_policy_versions).where(
            ram_policy_versions.c.policy_name == name,
            ram_policy_versions.c.version_id == version_id,
        )
    )


def delete_policy(conn: Connection, name: str) -> None:
    conn.execute(delete(ram_policy_versions).where(ram_policy_versions.c.policy_name == name))
    conn.execute(delete(ram_policies).where(ram_policies.c.name == name))


def attach(conn: Connection, attachment: Attachment) -> None:
    conn.execute(ram_user_policies.insert().values(**asdict(attachment)))


def detach(conn: Connection, user_id: str, policy_type: str, policy_name: str) -> int:
    result = conn.execute(
        delete(ram_user_policies).where(
            ram_user_policies.c.user_id == user_id,
            ram_user_policies.c.policy_type == policy_type,
            ram_user_policies.c.policy_name == policy_name,
        )
    )
    return int(result.rowcount or 0)


def attachments_of(conn: Connection, user_id: str) -> list[Attachment]:
    query = (
        select(ram_user_policies)
        .where(ram_user_policies.c.user_id == user_id)
        .order_by(ram_user_policies.c.attached_at, ram_user_policies.c.policy_name)
    )
    return [Attachment(**row._mapping) for row in conn.execute(query)]


def attachment_counts(conn: Connection, policy_type: str) -> dict[str, int]:
    query = (
        select(ram_user_policies.c.policy_name, func.count())
        .where(ram_user_policies.c.policy_type == policy_type)
        .group_by(ram_user_policies.c.policy_name)
    )
    return {name: int(count) for name, count in conn.execute(query)}


def custom_documents(conn: Connection, names: list[str]) -> dict[str, str]:
    """The default version's document of each named custom policy."""
    if not names:
        return {}
    rows = conn.execute(_policy_query().where(ram_policies.c.name.in_(sorted(set(names)))))
    return {row.name: row.document for row in rows}
