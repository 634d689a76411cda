"""Queries on audit events (ActionTrail's LookupEvents)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, String, bindparam, delete, false, func, literal, select, update

from openassist.server.store.paging import Page
from openassist.server.store.records import column_values
from openassist.server.store.schema.audit import audit_events


@dataclass(frozen=True)
class AuditRecord:
    event_id: str
    event_time: int
    event_name: str
    event_source: str
    event_type: str
    user_name: str
    access_key_id: str
    source_ip: str
    user_agent: str
    request_id: str
    resource_name: str
    error_code: str
    error_message: str
    request_parameters: str  # JSON, redacted


@dataclass(frozen=True)
class EventFilter:
    start: int
    end: int  # exclusive
    event_name: str | None = None
    event_source: str | None = None
    user_name: str | None = None
    event_id: str | None = None
    access_key_id: str | None = None
    resource_name: str | None = None  # one of the event's comma-separated resource names


_INSERT = audit_events.insert()  # built once: every audited call writes one


def insert_event(conn: Connection, event: AuditRecord) -> None:
    conn.execute(_INSERT, column_values(event))


def record_failure(conn: Connection, event: AuditRecord) -> None:
    """The call failed: its event says so, whether a write of the call already committed it
    (then it is updated) or not (then it is inserted): one event per call either way."""
    result = conn.execute(
        update(audit_events)
        .where(audit_events.c.event_id == event.event_id)
        .values(error_code=event.error_code, error_message=event.error_message, shipped=False)
    )  # changed: the sink ships it again
    if not result.rowcount:
        insert_event(conn, event)


def lookup(
    conn: Connection, where: EventFilter, limit: int, before_seq: int | None
) -> Page[AuditRecord]:
    """Newest first; keyset on the insertion sequence (NextToken)."""
    c = audit_events.c
    query = select(audit_events).where(c.event_time >= where.start, c.event_time < where.end)
    for column, value in (
        (c.event_name, where.event_name),
        (c.event_source, where.event_source),
        (c.user_name, where.user_name),
        (c.event_id, where.event_id),
        (c.access_key_id, where.access_key_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.resource_name is not None:
        padded = literal(",", String) + c.resource_name + literal(",", String)
        query = query.where(padded.contains(f",{where.resource_name},", autoescape=True))
    total = conn.scalar(select(func.count()).select_from(query.subquery()))
    if before_seq is not None:
        query = query.where(c.seq < before_seq)
    rows = list(conn.execute(query.order_by(c.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    fields = set(AuditRecord.__dataclass_fields__)
    items = [AuditRecord(**{k: v for k, v in row._mapping.items() if k in fields}) for row in rows]
    # Token keys are (integer, id): the sequence decides, the event id names the row.
    next_key = (int(rows[-1].seq), str(rows[-1].event_id)) if more and rows else None
    return Page(items=items, total=int(total or 0), next_key=next_key)


@dataclass(frozen=True)
class Unshipped:
    seq: int
    record: AuditRecord


def unshipped(conn: Connection, limit: int, claim: bool = False) -> list[Unshipped]:
    """Events the sink has not shipped since they last changed, oldest first. With ``claim``
    (PostgreSQL) they are locked until the transaction ends, skipping rows another node's sink
    holds: two nodes never take the same event."""
    c = audit_events.c
    query = select(audit_events).where(c.shipped == false()).order_by(c.seq).limit(limit)
    if claim:
        query = query.with_for_update(skip_locked=True)
    fields = set(AuditRecord.__dataclass_fields__)
    return [
        Unshipped(
            int(row.seq), AuditRecord(**{k: v for k, v in row._mapping.items() if k in fields})
        )
        for row in conn.execute(query)
    ]


def mark_shipped(conn: Connection, shipped: list[Unshipped]) -> None:
    """Mark events shipped, each only if it is still as shipped (a failure recorded meanwhile
    changed its error code: it stays to ship again)."""
    if not shipped:
        return
    c = audit_events.c
    statement = (
        update(audit_events)
        .where(c.seq == bindparam("s"), c.error_code == bindparam("code"))
        .values(shipped=True)
    )
    conn.execute(statement, [{"s": u.seq, "code": u.record.error_code} for u in shipped])


def purge_before(conn: Connection, moment: int) -> int:
    result = conn.execute(delete(audit_events).where(audit_events.c.event_time < moment))
    return int(result.rowcount or 0)
