"""Columns of a task's rollout, shared by command tasks and SendFile tasks (and their rows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    String,
    Text,
    false,
)


def rollout_task_columns() -> list[Column[Any]]:
    """A task's rollout limits (commands and send-file tasks alike)."""
    return [
        # As given ("" none, "10" targets, "10%" of them; README, "Rollouts"), and why the
        # rollout stopped early ("" while it has not).
        Column("max_concurrency", String(16), nullable=False, default="", server_default=""),
        Column("max_errors", String(16), nullable=False, default="", server_default=""),
        # BatchWait: seconds a slot freed by a finished target stays empty before the next one.
        Column("batch_wait", Integer, nullable=False, default=0, server_default="0"),
        Column("stop_reason", Text, nullable=False, default="", server_default=""),
        # DeliveryDeadline (ms): an offline target waits for its agent until then, not the
        # default delivery window; NULL: the default window.
        Column("delivery_deadline", BigInteger, nullable=True),
    ]


def rollout_row_columns() -> list[Column[Any]]:
    """A per-instance row's place in its task's rollout."""
    return [
        # A Pending row held back by its rollout's MaxConcurrency: not handed out until released
        # (in the transaction that ends a sibling); it is handed out from ``released_at`` (later
        # than its release by the task's BatchWait), and its delivery window starts then.
        Column("held", Boolean, nullable=False, default=False, server_default=false()),
        Column("released_at", BigInteger, nullable=True),
        # The task's DeliveryDeadline: not handed out by then, the row ends with its agent's
        # state.
        Column("deliver_by", BigInteger, nullable=True),
    ]
