"""Queries on the saved command library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, func, select, update

from openassist.server.store.paging import Page, PageQuery, fetch_page
from openassist.server.store.records import Command, command_from_row
from openassist.server.store.schema.tasks import commands
from openassist.server.store.tags import Tag, ids_tagged

c = commands.c


@dataclass(frozen=True)
class CommandFilter:
    command_id: str | None = None
    name: str | None = None  # `*` is a wildcard (prefix, suffix, infix)
    description: str | None = None
    type: str | None = None
    tags: tuple[Tag, ...] = ()
    visible: tuple[str, ...] | None = None  # only these (what the caller may see); None: all


def _like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _filtered(query: Select[Any], where: CommandFilter) -> Select[Any]:
    query = query.where(c.kept.is_(True), c.deleted.is_(False))
    if where.command_id:
        query = query.where(c.id == where.command_id)
    if where.name:
        query = query.where(c.name.like(_like(where.name), escape="\\"))
    if where.description:
        query = query.where(c.description.like(_like(where.description), escape="\\"))
    if where.type:
        query = query.where(c.type == where.type)
    if where.tags:
        query = query.where(c.id.in_(ids_tagged("command", where.tags)))
    if where.visible is not None:
        query = query.where(c.id.in_(where.visible))
    return query


def listed_types(conn: Connection) -> list[tuple[str, str]]:
    """(id, Type) of every command DescribeCommands may list (kept, not deleted)."""
    query = select(c.id, c.type).where(c.kept.is_(True), c.deleted.is_(False))
    return [(row.id, row.type) for row in conn.execute(query)]


def list_commands(conn: Connection, where: CommandFilter, page: PageQuery) -> Page[Command]:
    count = _filtered(select(func.count()).select_from(commands), where)
    query = _filtered(select(commands), where)
    return fetch_page(conn, query, count, (c.created_at, c.id), page, command_from_row)


def get_kept(conn: Connection, command_id: str) -> Command | None:
    """A command that may be invoked or changed: kept, and not deleted."""
    query = select(commands).where(c.id == command_id, c.kept.is_(True), c.deleted.is_(False))
    row = conn.execute(query).first()
    return command_from_row(row) if row else None


def count_invocation(conn: Connection, command_id: str) -> None:
    conn.execute(update(commands).where(c.id == command_id).values(invoke_times=c.invoke_times + 1))


def modify(conn: Connection, command_id: str, changes: dict[str, Any]) -> bool:
    if not changes:
        return get_kept(conn, command_id) is not None
    result = conn.execute(
        update(commands)
        .where(c.id == command_id, c.kept.is_(True), c.deleted.is_(False))
        .values(**changes)
    )
    return bool(result.rowcount)


def delete(conn: Connection, command_id: str) -> bool:
    result = conn.execute(
        update(commands)
        .where(c.id == command_id, c.kept.is_(True), c.deleted.is_(False))
        .values(deleted=True)
    )
    return bool(result.rowcount)
