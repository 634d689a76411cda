"""Tables of SendFile tasks and their per-instance rows."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from openassist.server.store.schema.base import metadata
from openassist.server.store.schema.rollout import rollout_row_columns, rollout_task_columns

file_tasks = Table(
    "file_tasks",
    metadata,
    Column("id", String(64), primary_key=True),  # f-...
    Column("name", String(255), nullable=False),
    Column("description", String(512), nullable=False, default=""),
    Column("content", LargeBinary, nullable=False),
    Column("content_type", String(16), nullable=False),
    Column("file_mode", String(8), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("group", String(64), nullable=False),
    Column("overwrite", Boolean, nullable=False),
    Column("target_dir", String(255), nullable=False),
    Column("timeout", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("access_key_id", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Raised in the transaction of every change to one of its per-instance rows: the cursor of
    # WaitInvocationResults, which answers as soon as it moves past the caller's.
    Column("results_seq", BigInteger, nullable=False, default=0, server_default="0"),
    # Its per-instance rows counted by status (JSON, {"Success": 9, "Running": 1}), moved with
    # each row's change: the overall status without reading every row (NULL: count them).
    Column("status_counts", Text, nullable=True),
    Column("invoked_by", String(64), nullable=False, default="", server_default=""),
    *rollout_task_columns(),
    Index("ix_file_tasks_created_at", "created_at"),
)

file_task_instances = Table(
    "file_task_instances",
    metadata,
    Column("invoke_id", String(64), ForeignKey("file_tasks.id"), primary_key=True),
    Column("instance_id", String(64), ForeignKey("instances.id"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64), nullable=False, default=""),
    Column("error_info", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("start_at", BigInteger, nullable=True),
    Column("finish_at", BigInteger, nullable=True),
    Column("update_at", BigInteger, nullable=False),
    *rollout_row_columns(),
    Index("ix_file_task_instances_instance_id_status", "instance_id", "status"),
)
