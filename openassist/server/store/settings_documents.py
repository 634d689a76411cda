"""Queries on the Cloud Assistant settings documents (one JSON document per setting type)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from openassist.server.store.schema.settings import cloud_assistant_settings as table


def get_document(conn: Connection, setting_type: str) -> str | None:
    row = conn.execute(select(table.c.document).where(table.c.setting_type == setting_type))
    found = row.first()
    return str(found.document) if found else None


def put_document(conn: Connection, setting_type: str, document: str, now: int) -> None:
    updated = conn.execute(
        table.update()
        .where(table.c.setting_type == setting_type)
        .values(document=document, updated_at=now)
    )
    if not updated.rowcount:
        conn.execute(
            table.insert().values(setting_type=setting_type, document=document, updated_at=now)
        )
