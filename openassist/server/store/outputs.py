"""Full output of a run, kept in chunks up to a cap (the 24 KB tail lives on the row itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from openassist.server.store.schema.results import invocation_outputs
from openassist.server.store.schema.tasks import invocation_instances

_o = invocation_outputs
_ii = invocation_instances


def fit(chunk: bytes, kept: int, cap: int) -> tuple[bytes, dict[str, Any]]:
    """The part of ``chunk`` kept after the ``kept`` bytes stored so far, up to ``cap`` in all,
    and the row's full-output columns once it is stored (to set with the row's other changes):
    plain values, so the report's update is a statement built once (``proposals``)."""
    stored = chunk[: max(0, cap - kept)]
    columns: dict[str, Any] = {"full_size": kept + len(stored)}
    if len(stored) < len(chunk):  # (else the flag stays as it is: plain values, see below)
        columns["full_truncated"] = True
    return stored, columns


# Built once: a report with output adds a chunk (see store/invocations.py).
_ADD_CHUNK = _o.insert()


def add_chunk(
    conn: Connection, invoke_id: str, instance_id: str, offset: int, chunk: bytes
) -> None:
    if chunk:
        values = {"invoke_id": invoke_id, "instance_id": instance_id, "offset": offset}
        conn.execute(_ADD_CHUNK, {**values, "chunk": chunk})


def append(
    conn: Connection, invoke_id: str, instance_id: str, chunk: bytes, kept: int, cap: int
) -> None:
    """Add ``chunk`` after the ``kept`` bytes stored so far, up to ``cap`` in all."""
    stored, columns = fit(chunk, kept, cap)
    add_chunk(conn, invoke_id, instance_id, kept, stored)
    conn.execute(
        update(_ii)
        .where(_ii.c.invoke_id == invoke_id, _ii.c.instance_id == instance_id)
        .values(**columns)
    )


@dataclass(frozen=True)
class OutputSlice:
    data: bytes
    offset: int
    size: int  # bytes stored in all


def read(
    conn: Connection, invoke_id: str, instance_id: str, offset: int, limit: int
) -> OutputSlice:
    """Up to ``limit`` bytes of the stored output from ``offset`` on."""
    key = (_o.c.invoke_id == invoke_id, _o.c.instance_id == instance_id)
    size = conn.scalar(select(func.coalesce(func.sum(func.length(_o.c.chunk)), 0)).where(*key))
    rows = conn.execute(
        select(_o.c.offset, _o.c.chunk)
        .where(*key, _o.c.offset + func.length(_o.c.chunk) > offset, _o.c.offset < offset + limit)
        .order_by(_o.c.offset)
    )
    data = bytearray()
    for row in rows:
        start = max(0, offset - row.offset)
        data += row.chunk[start:]
    return OutputSlice(bytes(data[:limit]), offset, int(size or 0))
