"""task_counts: tallies of tasks by status and repeat mode kept by triggers

Revision ID: 0037
Revises: 0036
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

# As result_counts (0036): only ever inserts of +1 / -1, folded by store/result_counts.py.
_SQLITE = [
    """CREATE TRIGGER task_counts_insert AFTER INSERT ON invocations
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, n) VALUES (NEW.status, NEW.repeat_mode, 1);
    END""",
    """CREATE TRIGGER task_counts_update AFTER UPDATE OF status, repeat_mode ON invocations
    WHEN OLD.status IS NOT NEW.status OR OLD.repeat_mode IS NOT NEW.repeat_mode
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, n)
        VALUES (OLD.status, OLD.repeat_mode, -1), (NEW.status, NEW.repeat_mode, 1);
    END""",
    """CREATE TRIGGER task_counts_delete AFTER DELETE ON invocations
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, n) VALUES (OLD.status, OLD.repeat_mode, -1);
    END""",
]

_POSTGRES = [
    """CREATE FUNCTION task_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, n)
        SELECT status, repeat_mode, count(*) FROM inserted_tasks GROUP BY status, repeat_mode;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER task_counts_insert AFTER INSERT ON invocations
    REFERENCING NEW TABLE AS inserted_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION task_counts_inserted()""",
    """CREATE FUNCTION task_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, n) VALUES (OLD.status, OLD.repeat_mode, -1);
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO task_counts (status, repeat_mode, n)
            VALUES (NEW.status, NEW.repeat_mode, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER task_counts_update
    AFTER UPDATE OF status, repeat_mode ON invocations FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.repeat_mode IS DISTINCT FROM NEW.repeat_mode)
    EXECUTE FUNCTION task_counts_changed()""",
    """CREATE TRIGGER task_counts_delete AFTER DELETE ON invocations
    FOR EACH ROW EXECUTE FUNCTION task_counts_changed()""",
]

_TRIGGERS = ("task_counts_insert", "task_counts_update", "task_counts_delete")


def upgrade() -> None:
    op.create_table(
        "task_counts",
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("repeat_mode", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_task_counts_status_repeat_mode", "task_counts", ["status", "repeat_mode"])
    op.execute(
        "INSERT INTO task_counts (status, repeat_mode, n)"
        " SELECT status, repeat_mode, count(*) FROM invocations GROUP BY status, repeat_mode"
    )
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for trigger in _TRIGGERS:
        op.execute(
            f"DROP TRIGGER {trigger}" if sqlite else f"DROP TRIGGER {trigger} ON invocations"
        )
    if not sqlite:
        op.execute("DROP FUNCTION task_counts_inserted()")
        op.execute("DROP FUNCTION task_counts_changed()")
    op.drop_index("ix_task_counts_status_repeat_mode", table_name="task_counts")
    op.drop_table("task_counts")
