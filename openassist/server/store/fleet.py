"""Queries on access keys and instances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, or_, select, update

from openassist.server.store.paging import Page, PageQuery, fetch_page
from openassist.server.store.records import (
    GONE_STATES,
    Instance,
    RegistrationState,
    instance_from_row,
)
from openassist.server.store.schema.fleet import instances
from openassist.server.store.tags import INSTANCE, Tag, ids_tagged


def insert_instance(conn: Connection, instance: Instance) -> None:
    conn.execute(instances.insert().values(**asdict(instance)))


def get_instance(conn: Connection, instance_id: str) -> Instance | None:
    row = (conn.execute(select(instances).where(instances.c.id == instance_id))).first()
    return instance_from_row(row) if row else None


def instances_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Instance]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(_BY_ID, {"ids": wanted})
    return {row.id: instance_from_row(row) for row in rows}


# Built once (each run's targets are read and counted): see store/invocations.py.
_BY_ID = select(instances).where(instances.c.id.in_(bindparam("ids", expanding=True)))
_INVOKED = (
    update(instances)
    .where(instances.c.id.in_(bindparam("ids", expanding=True)))
    .values(last_invoked_at=bindparam("now"), invocation_count=instances.c.invocation_count + 1)
)


def record_heartbeat(
    conn: Connection, instance_id: str, now: int | None, changes: dict[str, Any]
) -> None:
    """Apply ``changes``; ``now`` (unless None) becomes the last heartbeat time."""
    values = {**changes} if now is None else {"last_heartbeat_at": now, **changes}
    conn.execute(update(instances).where(instances.c.id == instance_id).values(**values))


def boot_ids(conn: Connection, instance_ids: Iterable[str]) -> dict[str, str]:
    """Instance id -> its stored boot id (those that exist)."""
    wanted = sorted(set(instance_ids))
    if not wanted:
        return {}
    c = instances.c
    rows = conn.execute(select(c.id, c.boot_id).where(c.id.in_(wanted)))
    return {row.id: row.boot_id for row in rows}


def record_heartbeats(conn: Connection, rows: dict[str, dict[str, Any]]) -> None:
    """Instance id -> the columns to set: one statement per set of columns (executemany)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for instance_id, values in rows.items():
        shape = tuple(sorted(values))
        params = {f"v_{name}": value for name, value in values.items()}
        shapes.setdefault(shape, []).append({"v_id": instance_id, **params})
    for shape, params_list in shapes.items():
        statement = (
            update(instances)
            .where(instances.c.id == bindparam("v_id"))
            .values({name: bindparam(f"v_{name}") for name in shape})
        )
        conn.execute(statement, params_list)


def count_invoked(conn: Connection, instance_ids: Iterable[str], now: int) -> None:
    conn.execute(_INVOKED, {"ids": sorted(set(instance_ids)), "now": now})


def name_pattern(text: str) -> str:
    """A LIKE pattern, lower case: a glob (``web-*``, ``db-?``) matches whole names; other text
    matches anywhere in them. ``%`` and ``_`` are literal."""
    text = text.strip().lower()
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if "*" in text or "?" in text:
        return escaped.replace("*", "%").replace("?", "_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class InstanceFilter:
    ids: tuple[str, ...] = ()
    visible: tuple[str, ...] | None = None  # only these (what the caller may see); None: all
    name: str | None = None
    name_like: str = ""  # see ``name_pattern``: matched on name, hostname and id
    activation_id: str | None = None
    resource_group_id: str | None = None
    os_type: str | None = None
    connected_since: int | None = None  # heartbeat at or after this instant
    disconnected_before: int | None = None  # no heartbeat since this instant
    registered_only: bool = True
    tags: tuple[Tag, ...] = ()  # every one must be on the instance (empty value: any value)


def _filtered_instances(query: Select[Any], where: InstanceFilter) -> Select[Any]:
    c = instances.c
    if where.ids:
        query = query.where(c.id.in_(where.ids))
    if where.visible is not None:
        query = query.where(c.id.in_(where.visible))
    if where.name:
        query = query.where(c.name == where.name)
    if where.name_like:
        pattern = name_pattern(where.name_like)
        query = query.where(
            or_(*(func.lower(col).like(pattern, escape="\\") for col in (c.name, c.hostname, c.id)))
        )
    if where.activation_id:
        query = query.where(c.activation_id == where.activation_id)
    if where.resource_group_id:
        query = query.where(c.resource_group_id == where.resource_group_id)
    if where.os_type:
        query = query.where(func.lower(c.os_type) == where.os_type.lower())
    if where.tags:
        query = query.where(c.id.in_(ids_tagged(INSTANCE, where.tags)))
    if where.connected_since is not None:
        query = query.where(
            c.last_heartbeat_at >= where.connected_since, c.agent_state.notin_(GONE_STATES)
        )
    if where.disconnected_before is not None:
        query = query.where(
            c.last_heartbeat_at.is_(None)
            | (c.last_heartbeat_at < where.disconnected_before)
            | c.agent_state.in_(GONE_STATES)
        )
    if where.registered_only:
        query = query.where(c.registration_state == RegistrationState.REGISTERED)
    return query


def all_instance_ids(conn: Connection) -> list[str]:
    """Every instance ever registered (deregistered ones keep their tasks)."""
    return [row.id for row in conn.execute(select(instances.c.id))]


def ids_with_tags(conn: Connection, pairs: tuple[Tag, ...], limit: int) -> list[str]:
    """Registered instances carrying every tag in ``pairs``, oldest first, at most ``limit``."""
    query = _filtered_instances(select(instances.c.id), InstanceFilter(tags=pairs))
    rows = conn.execute(query.order_by(instances.c.registered_at, instances.c.id).limit(limit))
    return [row.id for row in rows]


def list_instances(conn: Connection, where: InstanceFilter, page: PageQuery) -> Page[Instance]:
    """Newest registration first; keyset on (registered_at, id)."""
    c = instances.c
    count = _filtered_instances(select(func.count()).select_from(instances), where)
    query = _filtered_instances(select(instances), where)
    return fetch_page(conn, query, count, (c.registered_at, c.id), page, instance_from_row)


def move_to_group(conn: Connection, instance_id: str, group: str) -> bool:
    """Put a registered instance in resource group ``group``; False when there is none."""
    result = conn.execute(
        update(instances)
        .where(
            instances.c.id == instance_id,
            instances.c.registration_state == RegistrationState.REGISTERED,
        )
        .values(resource_group_id=group)
    )
    return bool(result.rowcount)


def rename_instance(conn: Connection, instance_id: str, name: str) -> bool:
    result = conn.execute(
        update(instances)
        .where(
            instances.c.id == instance_id,
            instances.c.registration_state == RegistrationState.REGISTERED,
        )
        .values(name=name)
    )
    return bool(result.rowcount)


def deregister_instance(
    conn: Connection,
    instance_id: str,
    state: RegistrationState = RegistrationState.DEREGISTERED,
) -> bool:
    """Mark a registered instance deregistered (or ``released``: deleted from the inventory);
    False when it was not registered."""
    result = conn.execute(
        update(instances)
        .where(
            instances.c.id == instance_id,
            instances.c.registration_state == RegistrationState.REGISTERED,
        )
        .values(registration_state=state)
    )
    return bool(result.rowcount)
