"""target_sets and a task's command type: RAM-limited and CommandType task lists counted from
the task tallies, and their keys read from an index alone

Revision ID: 0044
Revises: 0043
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

# (name, table, columns now, columns before)
_INDEXES = [
    (
        "ix_invocations_status_repeat_mode",
        "invocations",
        ["status", "repeat_mode", "created_at", "id"],
        ["status", "repeat_mode"],
    ),
    (
        "ix_invocations_repeat_mode_status",
        "invocations",
        ["repeat_mode", "status", "created_at", "id"],
        ["repeat_mode", "status"],
    ),
]


# 0037's triggers on the new tally key (only ever inserts of +1 / -1), and as they were.
_SQLITE_NOW = [
    """CREATE TRIGGER task_counts_insert AFTER INSERT ON invocations
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, command_type, target_set, n)
        VALUES (NEW.status, NEW.repeat_mode, NEW.command_type, NEW.target_set, 1);
    END""",
    """CREATE TRIGGER task_counts_update
    AFTER UPDATE OF status, repeat_mode, command_type, target_set ON invocations
    WHEN OLD.status IS NOT NEW.status OR OLD.repeat_mode IS NOT NEW.repeat_mode
        OR OLD.command_type IS NOT NEW.command_type OR OLD.target_set IS NOT NEW.target_set
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, command_type, target_set, n)
        VALUES (OLD.status, OLD.repeat_mode, OLD.command_type, OLD.target_set, -1),
               (NEW.status, NEW.repeat_mode, NEW.command_type, NEW.target_set, 1);
    END""",
    """CREATE TRIGGER task_counts_delete AFTER DELETE ON invocations
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, command_type, target_set, n)
        VALUES (OLD.status, OLD.repeat_mode, OLD.command_type, OLD.target_set, -1);
    END""",
]
_POSTGRES_NOW = [
    """CREATE OR REPLACE FUNCTION task_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, command_type, target_set, n)
        SELECT status, repeat_mode, command_type, target_set, count(*) FROM inserted_tasks
        GROUP BY status, repeat_mode, command_type, target_set;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION task_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, command_type, target_set, n)
        VALUES (OLD.status, OLD.repeat_mode, OLD.command_type, OLD.target_set, -1);
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO task_counts (status, repeat_mode, command_type, target_set, n)
            VALUES (NEW.status, NEW.repeat_mode, NEW.command_type, NEW.target_set, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER task_counts_update
    AFTER UPDATE OF status, repeat_mode, command_type, target_set ON invocations FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.repeat_mode IS DISTINCT FROM NEW.repeat_mode
        OR OLD.command_type IS DISTINCT FROM NEW.command_type
        OR OLD.target_set IS DISTINCT FROM NEW.target_set)
    EXECUTE FUNCTION task_counts_changed()""",
]
_SQLITE_WAS = [
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
_POSTGRES_WAS = [
    """CREATE OR REPLACE FUNCTION task_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO task_counts (status, repeat_mode, n)
        SELECT status, repeat_mode, count(*) FROM inserted_tasks GROUP BY status, repeat_mode;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION task_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
]
_TALLY_NOW = (
    "INSERT INTO task_counts (status, repeat_mode, command_type, target_set, n)"
    " SELECT status, repeat_mode, command_type, target_set, count(*) FROM invocations"
    " GROUP BY status, repeat_mode, command_type, target_set"
)
_TALLY_WAS = (
    "INSERT INTO task_counts (status, repeat_mode, n)"
    " SELECT status, repeat_mode, count(*) FROM invocations GROUP BY status, repeat_mode"
)


# A task's command_type is its command's type whoever writes the task (a command's type never
# changes; ModifyInvocationAttribute may give a task a new command, of the same type).
_TYPE_SQLITE = [
    """CREATE TRIGGER invocations_command_type_insert AFTER INSERT ON invocations
    BEGIN
        UPDATE invocations
        SET command_type = coalesce((SELECT type FROM commands WHERE id = NEW.command_id), '')
        WHERE id = NEW.id AND command_type IS NOT
            coalesce((SELECT type FROM commands WHERE id = NEW.command_id), '');
    END""",
    """CREATE TRIGGER invocations_command_type_update AFTER UPDATE OF command_id ON invocations
    BEGIN
        UPDATE invocations
        SET command_type = coalesce((SELECT type FROM commands WHERE id = NEW.command_id), '')
        WHERE id = NEW.id AND command_type IS NOT
            coalesce((SELECT type FROM commands WHERE id = NEW.command_id), '');
    END""",
]
_TYPE_POSTGRES = [
    """CREATE FUNCTION invocations_command_type() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.command_type := coalesce((SELECT type FROM commands WHERE id = NEW.command_id), '');
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER invocations_command_type BEFORE INSERT OR UPDATE OF command_id
    ON invocations FOR EACH ROW EXECUTE FUNCTION invocations_command_type()""",
]
# A task's target set is kept by store.invocations as its rows are added (and rows are never
# taken away); a row deleted or moved by other means makes the task's set not known, so that
# the lists judge it by its rows.
_FORGET_SQLITE = [
    """CREATE TRIGGER target_set_forget_delete AFTER DELETE ON invocation_instances
    BEGIN
        UPDATE invocations SET target_set = '' WHERE id = OLD.invoke_id AND target_set <> '';
    END""",
    """CREATE TRIGGER target_set_forget_update
    AFTER UPDATE OF invoke_id, instance_id ON invocation_instances
    WHEN OLD.invoke_id IS NOT NEW.invoke_id OR OLD.instance_id IS NOT NEW.instance_id
    BEGIN
        UPDATE invocations SET target_set = ''
        WHERE id IN (OLD.invoke_id, NEW.invoke_id) AND target_set <> '';
    END""",
]
_FORGET_POSTGRES = [
    """CREATE FUNCTION target_set_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE invocations SET target_set = '' WHERE id = OLD.invoke_id AND target_set <> '';
        IF TG_OP = 'UPDATE' THEN
            UPDATE invocations SET target_set = '' WHERE id = NEW.invoke_id AND target_set <> '';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER target_set_forget_delete AFTER DELETE ON invocation_instances
    FOR EACH ROW EXECUTE FUNCTION target_set_forget()""",
    """CREATE TRIGGER target_set_forget_update
    AFTER UPDATE OF invoke_id, instance_id ON invocation_instances FOR EACH ROW
    WHEN (OLD.invoke_id IS DISTINCT FROM NEW.invoke_id
        OR OLD.instance_id IS DISTINCT FROM NEW.instance_id)
    EXECUTE FUNCTION target_set_forget()""",
]
_DROP_SQLITE = [
    "DROP TRIGGER invocations_command_type_insert",
    "DROP TRIGGER invocations_command_type_update",
    "DROP TRIGGER target_set_forget_delete",
    "DROP TRIGGER target_set_forget_update",
]
_DROP_POSTGRES = [
    "DROP TRIGGER invocations_command_type ON invocations",
    "DROP FUNCTION invocations_command_type()",
    "DROP TRIGGER target_set_forget_delete ON invocation_instances",
    "DROP TRIGGER target_set_forget_update ON invocation_instances",
    "DROP FUNCTION target_set_forget()",
]


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _retally(now: bool) -> None:
    """The tallies counted afresh on the new key (``now``) or the old one, and the triggers
    that keep them. PostgreSQL's statement trigger on INSERT is the same on both keys: its
    function changes."""
    sqlite = _sqlite()
    for trigger in (
        "task_counts_update",
        *(("task_counts_insert", "task_counts_delete") if sqlite else ()),
    ):
        op.execute(
            f"DROP TRIGGER {trigger}" if sqlite else f"DROP TRIGGER {trigger} ON invocations"
        )
    op.execute("DELETE FROM task_counts")
    op.execute(_TALLY_NOW if now else _TALLY_WAS)
    if sqlite:
        statements = _SQLITE_NOW if now else _SQLITE_WAS
    else:
        statements = _POSTGRES_NOW if now else _POSTGRES_WAS
    for statement in statements:
        op.execute(statement)


def _task_sets() -> Iterator[tuple[str, list[str]]]:
    """Each task with rows and the instance ids of its rows."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT invoke_id, instance_id FROM invocation_instances"
            " ORDER BY invoke_id, instance_id"
        ),
        execution_options={"yield_per": 10_000},
    )
    task: str | None = None
    members: list[str] = []
    for invoke_id, instance_id in rows:
        if invoke_id != task:
            if task is not None:
                yield task, members
            task, members = invoke_id, []
        members.append(instance_id)
    if task is not None:
        yield task, members


def _fill_target_sets() -> None:
    """As store.target_sets names them (a digest of the sorted ids), each set stored once."""
    named: dict[str, str] = {}
    sets: dict[str, list[str]] = {}
    for task, found in _task_sets():
        members = sorted(found)  # in Python's order: the database's collation may differ
        name = hashlib.sha256("\n".join(members).encode()).hexdigest()
        named[task] = name
        sets.setdefault(name, members)
    bind = op.get_bind()
    stored = [{"id": name, "instance_id": m} for name, ids in sets.items() for m in ids]
    if stored:
        bind.execute(
            sa.text("INSERT INTO target_sets (id, instance_id) VALUES (:id, :instance_id)"),
            stored,
        )
    if named:
        bind.execute(
            sa.text("UPDATE invocations SET target_set = :name WHERE id = :task"),
            [{"name": name, "task": task} for task, name in named.items()],
        )


def upgrade() -> None:
    # Plain column adds: a batch rebuild of invocations would drop the triggers of 0036/0037.
    op.add_column(
        "invocations",
        sa.Column("command_type", sa.String(32), nullable=False, server_default=""),
    )
    op.add_column(
        "invocations",
        sa.Column("target_set", sa.String(64), nullable=False, server_default=""),
    )
    for column in ("command_type", "target_set"):
        op.add_column(
            "task_counts",
            sa.Column(column, sa.String(64 if column == "target_set" else 32), nullable=False,
                      server_default=""),
        )  # fmt: skip
    op.create_table(
        "target_sets",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", "instance_id", name="pk_target_sets"),
    )
    op.create_index("ix_target_sets_instance_id", "target_sets", ["instance_id", "id"])
    op.execute(
        "UPDATE invocations SET command_type ="
        " (SELECT type FROM commands WHERE commands.id = invocations.command_id)"
    )
    for statement in (
        _TYPE_SQLITE + _FORGET_SQLITE if _sqlite() else _TYPE_POSTGRES + _FORGET_POSTGRES
    ):
        op.execute(statement)
    _fill_target_sets()
    _retally(now=True)
    for name, table, columns, _ in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    op.create_index(
        "ix_invocations_command_type", "invocations", ["command_type", "created_at", "id"]
    )
    op.create_index("ix_invocations_target_set", "invocations", ["target_set", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_invocations_target_set", table_name="invocations")
    op.drop_index("ix_invocations_command_type", table_name="invocations")
    for name, table, _, columns in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    _retally(now=False)
    for statement in _DROP_SQLITE if _sqlite() else _DROP_POSTGRES:
        op.execute(statement)
    op.drop_index("ix_target_sets_instance_id", table_name="target_sets")
    op.drop_table("target_sets")
    for column in ("target_set", "command_type"):
        op.drop_column("task_counts", column)
        op.drop_column("invocations", column)
