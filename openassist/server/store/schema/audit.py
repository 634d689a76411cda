"""The ActionTrail table."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from openassist.server.store.schema.base import metadata

# ActionTrail (2020-07-06) events: one row per change, secret read, sign-in or refusal, written
# in the same transaction as the change it records.
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("event_time", BigInteger, nullable=False),
    Column("event_name", String(64), nullable=False),  # the action (or ConsoleSignin ...)
    Column("event_source", String(64), nullable=False),  # ecs | ram | oos | actiontrail | console
    Column("event_type", String(32), nullable=False),  # ApiCall | ConsoleSignin | ConsoleCall
    Column("user_name", String(64), nullable=False, default=""),
    Column("access_key_id", String(64), nullable=False, default=""),
    Column("source_ip", String(64), nullable=False, default=""),
    Column("user_agent", String(256), nullable=False, default=""),
    Column("request_id", String(64), nullable=False, default=""),
    Column("resource_name", Text, nullable=False, default=""),  # comma-separated ids
    Column("error_code", String(128), nullable=False, default=""),
    Column("error_message", Text, nullable=False, default=""),
    Column("request_parameters", Text, nullable=False, default="{}"),  # redacted JSON
    # Written to the audit sink (file or syslog) since it last changed; the sink ships the
    # rows still false, in seq order, and sets it after they are out (at least once).
    Column("shipped", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_audit_events_event_time", "event_time"),
    Index("ix_audit_events_shipped_seq", "shipped", "seq"),
)
