"""Tables of tasks: commands, tasks (``invocations``) and their per-instance rows, the sets of
instances they run on, console runs split into tasks, and the tags of commands, tasks and
activations."""

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
    false,
)

from openassist.server.store.schema.base import metadata
from openassist.server.store.schema.rollout import rollout_row_columns, rollout_task_columns

commands = Table(
    "commands",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False, default=""),
    Column("description", String(512), nullable=False, default=""),
    Column("type", String(32), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("working_dir", String(200), nullable=False, default=""),
    Column("timeout", Integer, nullable=False),
    Column("enable_parameter", Boolean, nullable=False, default=False),
    Column("launcher", String(1024), nullable=False, default=""),
    # RunCommand without KeepCommand creates a command that is not listed nor re-invokable.
    Column("kept", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    # DeleteCommand hides a command; its past invocations still name it.
    Column("deleted", Boolean, nullable=False, default=False, server_default=false()),
    Column("invoke_times", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_commands_name", "name"),  # DescribeInvocations by CommandName
    Index("ix_commands_type", "type"),  # and by CommandType
)

invocations = Table(
    "invocations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("command_id", String(64), ForeignKey("commands.id"), nullable=False),
    Column("repeat_mode", String(16), nullable=False),
    Column("frequency", String(256), nullable=False, default=""),
    Column("timeout", Integer, nullable=False),
    Column("working_dir", String(200), nullable=False, default=""),
    Column("username", String(255), nullable=False, default=""),
    Column("parameters", Text, nullable=False, default="{}"),
    Column("termination_mode", String(16), nullable=False, default=""),
    # Overall status, recomputed in the same transaction as every per-instance change so that
    # DescribeInvocations can filter and page on it.
    Column("status", String(16), nullable=False),
    Column("access_key_id", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Run inside this container (API.md 3.7); empty: on the host.
    Column("container_id", String(128), nullable=False, default="", server_default=""),
    Column("container_name", String(255), nullable=False, default="", server_default=""),
    # invokeVersion of timed tasks: ModifyInvocationAttribute raises it, and the agents then
    # replace the schedule they hold.
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    # Raised in the transaction of every change to one of its per-instance rows: the cursor of
    # WaitInvocationResults, which answers as soon as it moves past the caller's.
    Column("results_seq", BigInteger, nullable=False, default=0, server_default="0"),
    # Its per-instance rows counted by status (JSON, {"Success": 9, "Running": 1}), moved with
    # each row's change: the overall status without reading every row (NULL: count them).
    Column("status_counts", Text, nullable=True),
    # The RAM user whose key created the task (empty for tasks older than users).
    Column("invoked_by", String(64), nullable=False, default="", server_default=""),
    # RunCommand / InvokeCommand's ResourceGroupId ("": none); DescribeInvocations filters on it.
    Column("resource_group_id", String(64), nullable=False, server_default=""),
    *rollout_task_columns(),
    # A Period task with rollout limits is fired by the server: how many fires so far, and when
    # the last one was (ms; NULL: none yet).
    Column("fires", Integer, nullable=False, server_default="0"),
    Column("fired_at", BigInteger, nullable=True),
    # The console run it is one part of, when a run on more machines than one task takes was
    # split (``split_runs``); NULL for every other task.
    Column("split_run_id", String(64), nullable=True),
    # Its command's type (which never changes; DescribeInvocations' CommandType) and the set
    # of instances it runs on (store.target_sets; "": not known, judged by its rows), kept by
    # store.invocations with its rows.
    Column("command_type", String(32), nullable=False, server_default=""),
    Column("target_set", String(64), nullable=False, server_default=""),
    Index("ix_invocations_created_at", "created_at"),
    Index("ix_invocations_split_run_id", "split_run_id"),
    Index("ix_invocations_command_id", "command_id"),  # DescribeInvocations[Results] by CommandId
    # DescribeInvocations by InvokeStatus, RepeatMode, Timed, CommandType and the instances the
    # caller may see: each list's keys (created_at, id) read from its index alone.
    Index("ix_invocations_status_repeat_mode", "status", "repeat_mode", "created_at", "id"),
    Index("ix_invocations_repeat_mode_status", "repeat_mode", "status", "created_at", "id"),
    Index("ix_invocations_command_type", "command_type", "created_at", "id"),
    Index("ix_invocations_target_set", "target_set", "created_at", "id"),
)

# The distinct sets of instances tasks run on, one row per member (store.target_sets).
target_sets = Table(
    "target_sets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("instance_id", String(64), primary_key=True),
    Index("ix_target_sets_instance_id", "instance_id", "id"),
)

invocation_instances = Table(
    "invocation_instances",
    metadata,
    Column("invoke_id", String(64), ForeignKey("invocations.id"), primary_key=True),
    Column("instance_id", String(64), ForeignKey("instances.id"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64), nullable=False, default=""),
    Column("error_info", Text, nullable=False, default=""),
    Column("exit_code", Integer, nullable=True),
    Column("output", LargeBinary, nullable=False, default=b""),
    Column("dropped", BigInteger, nullable=False, default=0),
    Column("repeats", Integer, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("start_at", BigInteger, nullable=True),
    Column("finish_at", BigInteger, nullable=True),
    Column("stop_at", BigInteger, nullable=True),
    Column("update_at", BigInteger, nullable=False),
    # Bytes of full output kept in invocation_outputs, and whether more came than the cap.
    Column("full_size", BigInteger, nullable=False, default=0, server_default="0"),
    Column("full_truncated", Boolean, nullable=False, default=False, server_default=false()),
    *rollout_row_columns(),
    # The fire of a server-fired Period task the row last joined (its invokeVersion then).
    Column("fire", Integer, nullable=False, server_default="0"),
    # An instance's rows by status (its agent's task list) and, covering, a few results of a
    # status (lists that gather few rows: store.listings).
    Index(
        "ix_invocation_instances_instance_id_status",
        "instance_id",
        "status",
        "error_code",
        "created_at",
        "invoke_id",
    ),
    # An instance's results newest first (the keyset order), its task ids, and its status
    # filters, all read from the index alone.
    Index(
        "ix_invocation_instances_instance_id_created_at",
        "instance_id",
        "created_at",
        "invoke_id",
        "status",
        "error_code",
    ),
    Index("ix_invocation_instances_created_at", "created_at", "invoke_id", "instance_id"),
)

tags = Table(
    "tags",
    metadata,
    Column("resource_type", String(16), primary_key=True),  # command | invocation | activation
    Column("resource_id", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(128), nullable=False, default=""),
    Index("ix_tags_resource_type_key_value", "resource_type", "key", "value"),
)

# A console run on more machines than one task takes, split into tasks (each names it in
# ``invocations.split_run_id``): its page, merged table and Stop outlive the URL that opened it.
split_runs = Table(
    "split_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Column("invoked_by", String(64), nullable=False, default=""),
    Column("machines", Integer, nullable=False),  # targets chosen (each in exactly one task)
    Column("tasks", Integer, nullable=False),  # tasks it was split into
)
