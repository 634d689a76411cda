"""Tables of what runs produced beyond their row: each run of a timed task, and full output."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from openassist.server.store.schema.base import metadata

# One row per run of a timed task on one instance (DescribeInvocationResults IncludeHistory).
invocation_runs = Table(
    "invocation_runs",
    metadata,
    Column("invoke_id", String(64), ForeignKey("invocations.id"), primary_key=True),
    Column("instance_id", String(64), primary_key=True),
    # The run's start (ms) as the agent reported it, or the fire time of a skipped run: a
    # report sent twice names the same run.
    Column("start_at", BigInteger, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64), nullable=False, default=""),
    Column("error_info", Text, nullable=False, default=""),
    Column("exit_code", Integer, nullable=True),
    Column("output", LargeBinary, nullable=False, default=b""),
    Column("dropped", BigInteger, nullable=False, default=0),
    Column("finish_at", BigInteger, nullable=True),
    Column("run_number", Integer, nullable=False),
)

invocation_outputs = Table(
    "invocation_outputs",
    metadata,
    Column("invoke_id", String(64), primary_key=True),
    Column("instance_id", String(64), primary_key=True),
    Column("offset", BigInteger, primary_key=True),  # byte offset of the chunk in the output
    Column("chunk", LargeBinary, nullable=False),
)
