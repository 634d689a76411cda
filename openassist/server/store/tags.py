"""Tags on commands, invocations, activations and managed instances (API.md 1.11)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Select, delete, select

from openassist.server.store.schema.tasks import tags

Tag = tuple[str, str]
COMMAND = "command"  # a saved command: tagged by CreateCommand or TagResources
INSTANCE = "instance"  # a managed instance: tagged from its activation, or by TagResources


def set_tags(
    conn: Connection, resource_type: str, resource_id: str, pairs: Sequence[Tag], new: bool = False
) -> None:
    """Replace the resource's tags; ``new`` resources have none to remove yet."""
    if not new:
        conn.execute(
            delete(tags).where(
                tags.c.resource_type == resource_type, tags.c.resource_id == resource_id
            )
        )
    if pairs:
        conn.execute(
            tags.insert(),
            [
                {"resource_type": resource_type, "resource_id": resource_id, "key": k, "value": v}
                for k, v in pairs
            ],
        )


def tags_of(conn: Connection, resource_type: str, ids: Iterable[str]) -> dict[str, list[Tag]]:
    wanted = sorted(set(ids))
    found: dict[str, list[Tag]] = {resource_id: [] for resource_id in wanted}
    if not wanted:
        return found
    query = (
        select(tags.c.resource_id, tags.c.key, tags.c.value)
        .where(tags.c.resource_type == resource_type, tags.c.resource_id.in_(wanted))
        .order_by(tags.c.resource_id, tags.c.key)
    )
    for row in conn.execute(query):
        found[row.resource_id].append((row.key, row.value))
    return found


def ids_tagged(resource_type: str, pairs: Sequence[Tag]) -> Select[tuple[str]]:
    """A subquery of the ids carrying every tag in ``pairs`` (an empty value matches any value)."""
    query = select(tags.c.resource_id).where(tags.c.resource_type == resource_type)
    for index, (key, value) in enumerate(pairs):
        alias = tags.alias(f"t{index}")
        condition = [alias.c.resource_type == resource_type, alias.c.key == key]
        if value:
            condition.append(alias.c.value == value)
        query = query.where(tags.c.resource_id.in_(select(alias.c.resource_id).where(*condition)))
    return query.distinct()


def add_tags(conn: Connection, resource_type: str, resource_id: str, pairs: Sequence[Tag]) -> None:
    """Set the given keys (a key already there takes the new value); other tags stay."""
    remove_tags(conn, resource_type, resource_id, [key for key, _ in pairs])
    set_tags(conn, resource_type, resource_id, pairs, new=True)


def remove_tags(
    conn: Connection, resource_type: str, resource_id: str, keys: Sequence[str] | None
) -> None:
    """Remove the tags with ``keys`` (None: all of them)."""
    query = delete(tags).where(
        tags.c.resource_type == resource_type, tags.c.resource_id == resource_id
    )
    if keys is not None:
        query = query.where(tags.c.key.in_(list(keys)))
    conn.execute(query)
