"""Queries on activations (the codes that let hosts register)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select, update

from openassist.server.store.paging import Page, PageQuery, fetch_page
from openassist.server.store.records import Activation, RegistrationState
from openassist.server.store.schema.fleet import activations, instances
from openassist.server.store.tags import Tag, ids_tagged


def insert_activation(conn: Connection, activation: Activation) -> None:
    conn.execute(activations.insert().values(**asdict(activation)))


def get_activation(conn: Connection, activation_id: str) -> Activation | None:
    query = select(activations).where(activations.c.id == activation_id).with_for_update()
    row = (conn.execute(query)).first()
    return Activation(**row._mapping) if row else None


def count_registration(conn: Connection, activation_id: str) -> bool:
    """Take one registration slot of the activation; False when none is left."""
    c = activations.c
    result = conn.execute(
        update(activations)
        .where(c.id == activation_id, c.registered_count < c.instance_count)
        .values(registered_count=c.registered_count + 1)
    )
    return bool(result.rowcount)


def count_deregistration(conn: Connection, activation_id: str) -> None:
    c = activations.c
    conn.execute(
        update(activations)
        .where(c.id == activation_id)
        .values(deregistered_count=c.deregistered_count + 1)
    )


@dataclass(frozen=True)
class ActivationFilter:
    activation_id: str | None = None
    instance_name: str | None = None
    resource_group_id: str | None = None
    tags: tuple[Tag, ...] = ()


def _filtered(query: Select[Any], where: ActivationFilter) -> Select[Any]:
    c = activations.c
    if where.activation_id:
        query = query.where(c.id == where.activation_id)
    if where.instance_name:
        query = query.where(c.instance_name == where.instance_name)
    if where.resource_group_id:
        query = query.where(c.resource_group_id == where.resource_group_id)
    if where.tags:
        query = query.where(c.id.in_(ids_tagged("activation", where.tags)))
    return query


def list_activations(
    conn: Connection, where: ActivationFilter, page: PageQuery
) -> Page[Activation]:
    c = activations.c
    count = _filtered(select(func.count()).select_from(activations), where)
    query = _filtered(select(activations), where)
    return fetch_page(
        conn, query, count, (c.created_at, c.id), page, lambda row: Activation(**row._mapping)
    )


def set_disabled(conn: Connection, activation_id: str) -> Activation | None:
    conn.execute(update(activations).where(activations.c.id == activation_id).values(disabled=True))
    return get_activation(conn, activation_id)


def registered_instances(conn: Connection, activation_id: str) -> int:
    query = select(func.count()).where(
        instances.c.activation_id == activation_id,
        instances.c.registration_state == RegistrationState.REGISTERED,
    )
    return int(conn.scalar(query) or 0)


def delete_activation(conn: Connection, activation_id: str) -> None:
    """Remove the activation; instances it registered keep running, unlinked from it."""
    conn.execute(
        update(instances)
        .where(instances.c.activation_id == activation_id)
        .values(activation_id=None)
    )
    conn.execute(delete(activations).where(activations.c.id == activation_id))
