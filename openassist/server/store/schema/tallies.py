"""Tallies kept beside the task tables so that counts need not read every row."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    String,
    Table,
)

from openassist.server.store.schema.base import metadata

# Tallies of invocation_instances by (instance, status, error code), +1/-1 rows added by the
# triggers of migration 0036 and folded by store/result_counts.py (TotalCount without a count).
result_counts = Table(
    "result_counts",
    metadata,
    Column("instance_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64), nullable=False),
    Column("n", BigInteger, nullable=False),
    Index("ix_result_counts_instance_id_status", "instance_id", "status", "error_code"),
)

# Tallies of invocations by (status, repeat mode, command type, target set), kept the same way
# (migrations 0037 and 0044).
task_counts = Table(
    "task_counts",
    metadata,
    Column("status", String(16), nullable=False),
    Column("repeat_mode", String(16), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("command_type", String(32), nullable=False, server_default=""),
    Column("target_set", String(64), nullable=False, server_default=""),
    Index("ix_task_counts_status_repeat_mode", "status", "repeat_mode"),
)
