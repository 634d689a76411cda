"""result_counts: tallies of result rows kept by triggers; indexes of the task and result lists

Revision ID: 0036
Revises: 0035
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


# Every change to a result row's (instance, status, error code) adds a row of +1 / -1: the
# triggers only ever insert, so two writers never wait on one tally (store/result_counts.py).
_SQLITE = [
    """CREATE TRIGGER result_counts_insert AFTER INSERT ON invocation_instances
    BEGIN
        INSERT INTO result_counts (instance_id, status, error_code, n)
        VALUES (NEW.instance_id, NEW.status, NEW.error_code, 1);
    END""",
    """CREATE TRIGGER result_counts_update
    AFTER UPDATE OF instance_id, status, error_code ON invocation_instances
    WHEN OLD.instance_id IS NOT NEW.instance_id OR OLD.status IS NOT NEW.status
        OR OLD.error_code IS NOT NEW.error_code
    BEGIN
        INSERT INTO result_counts (instance_id, status, error_code, n)
        VALUES (OLD.instance_id, OLD.status, OLD.error_code, -1),
               (NEW.instance_id, NEW.status, NEW.error_code, 1);
    END""",
    """CREATE TRIGGER result_counts_delete AFTER DELETE ON invocation_instances
    BEGIN
        INSERT INTO result_counts (instance_id, status, error_code, n)
        VALUES (OLD.instance_id, OLD.status, OLD.error_code, -1);
    END""",
]

# PostgreSQL: a fan-out's one multi-row INSERT adds its tallies in one statement (transition
# table); a report's UPDATE fires only when the status or error code changed.
_POSTGRES = [
    """CREATE FUNCTION result_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO result_counts (instance_id, status, error_code, n)
        SELECT instance_id, status, error_code, count(*) FROM inserted_rows
        GROUP BY instance_id, status, error_code;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER result_counts_insert AFTER INSERT ON invocation_instances
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION result_counts_inserted()""",
    """CREATE FUNCTION result_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO result_counts (instance_id, status, error_code, n)
            VALUES (OLD.instance_id, OLD.status, OLD.error_code, -1);
        END IF;
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO result_counts (instance_id, status, error_code, n)
            VALUES (NEW.instance_id, NEW.status, NEW.error_code, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER result_counts_update
    AFTER UPDATE OF instance_id, status, error_code ON invocation_instances FOR EACH ROW
    WHEN (OLD.instance_id IS DISTINCT FROM NEW.instance_id
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.error_code IS DISTINCT FROM NEW.error_code)
    EXECUTE FUNCTION result_counts_changed()""",
    """CREATE TRIGGER result_counts_delete AFTER DELETE ON invocation_instances
    FOR EACH ROW EXECUTE FUNCTION result_counts_changed()""",
]

# DescribeInvocations by InvokeStatus, RepeatMode, Timed, CommandName and CommandType.
_INDEXES = [
    ("ix_invocations_status_repeat_mode", "invocations", ["status", "repeat_mode"]),
    ("ix_invocations_repeat_mode_status", "invocations", ["repeat_mode", "status"]),
    ("ix_commands_name", "commands", ["name"]),
    ("ix_commands_type", "commands", ["type"]),
]
_TRIGGERS = ("result_counts_insert", "result_counts_update", "result_counts_delete")


def upgrade() -> None:
    op.create_table(
        "result_counts",
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_result_counts_instance_id_status",
        "result_counts",
        ["instance_id", "status", "error_code"],
    )
    op.execute(
        "INSERT INTO result_counts (instance_id, status, error_code, n)"
        " SELECT instance_id, status, error_code, count(*) FROM invocation_instances"
        " GROUP BY instance_id, status, error_code"
    )
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(statement)
    # Every result newest first (the keyset order of DescribeInvocationResults without a task).
    op.create_index(
        "ix_invocation_instances_created_at",
        "invocation_instances",
        ["created_at", "invoke_id", "instance_id"],
    )
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)
    _instance_status_index(["instance_id", "status", "error_code", "created_at", "invoke_id"])


def _instance_status_index(columns: list[str]) -> None:
    """An instance's rows by status; from 0036 also covering the few rows of a status."""
    name = "ix_invocation_instances_instance_id_status"
    op.drop_index(name, table_name="invocation_instances")
    op.create_index(name, "invocation_instances", columns)


def downgrade() -> None:
    _instance_status_index(["instance_id", "status"])
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_invocation_instances_created_at", table_name="invocation_instances")
    for trigger in _TRIGGERS:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"DROP TRIGGER {trigger}")
        else:
            op.execute(f"DROP TRIGGER {trigger} ON invocation_instances")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION result_counts_inserted()")
        op.execute("DROP FUNCTION result_counts_changed()")
    op.drop_index("ix_result_counts_instance_id_status", table_name="result_counts")
    op.drop_table("result_counts")
