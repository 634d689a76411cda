"""Tables of the store (SQLAlchemy Core). Times are Unix milliseconds (portable across SQLite and
PostgreSQL, and cheap to compare); the API renders them as ISO 8601."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    # Sealed with the server's key file (service.secret_box): a database copy cannot sign.
    Column("sealed_secret", Text, nullable=False),
    Column("owner", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", BigInteger, nullable=False),
)

activations = Table(
    "activations",
    metadata,
    Column("id", String(64), primary_key=True),
    # Only a hash of the code is kept: the code is shown once, at creation.
    Column("code_sha256", String(64), nullable=False),
    Column("instance_name", String(64), nullable=False, default=""),
    Column("description", String(128), nullable=False, default=""),
    Column("instance_count", Integer, nullable=False),
    Column("registered_count", Integer, nullable=False, default=0),
    Column("deregistered_count", Integer, nullable=False, default=0),
    Column("ttl_hours", Integer, nullable=False),
    Column("ip_range", String(64), nullable=False, default=""),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    # "" when none; the instances it registers carry it (RunCommand's ResourceGroupId checks it).
    Column("resource_group_id", String(64), nullable=False, server_default=""),
)

instances = Table(
    "instances",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False, default=""),
    Column("hostname", String(255), nullable=False, default=""),
    Column("machine_id", String(64), nullable=False, default=""),
    Column("activation_id", String(64), ForeignKey("activations.id"), nullable=True),
    Column("os_type", String(32), nullable=False, default="Linux"),
    Column("os_version", String(255), nullable=False, default=""),
    Column("agent_version", String(64), nullable=False, default=""),
    Column("public_key", Text, nullable=False),
    Column("intranet_ip", String(64), nullable=False, default=""),
    Column("internet_ip", String(64), nullable=False, default=""),
    Column("registered_at", BigInteger, nullable=False),
    Column("last_heartbeat_at", BigInteger, nullable=True),
    Column("boot_id", String(64), nullable=False, default=""),
    # "" while heartbeating; "stopped" / "shutdown" once the agent said goodbye (service
    # stopped / operating system shutting down) until its next heartbeat.
    Column("agent_state", String(16), nullable=False, default="", server_default=""),
    # Last time a correctly signed request of this instance was refused by the access rules.
    Column("access_denied_at", BigInteger, nullable=True),
    Column("agent_capabilities", String(512), nullable=False, default="", server_default=""),
    Column("running_tasks", Integer, nullable=True),
    # Our agent's own duties failing again and again ("fetch: OSError: ..."), "" when none.
    Column("agent_faults", String(512), nullable=False, default="", server_default=""),
    Column("registration_state", String(16), nullable=False, default="registered"),
    Column("last_invoked_at", BigInteger, nullable=True),
    Column("invocation_count", Integer, nullable=False, default=0),
    Column("resource_group_id", String(64), nullable=False, server_default=""),
)

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


def _rollout_task_columns() -> list[Column[Any]]:
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


def _rollout_row_columns() -> list[Column[Any]]:
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
    *_rollout_task_columns(),
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
    *_rollout_row_columns(),
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

tags = Table(
    "tags",
    metadata,
    Column("resource_type", String(16), primary_key=True),  # command | invocation | activation
    Column("resource_id", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(128), nullable=False, default=""),
    Index("ix_tags_resource_type_key_value", "resource_type", "key", "value"),
)

client_tokens = Table(
    "client_tokens",
    metadata,
    Column("access_key_id", String(64), primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("token", String(64), primary_key=True),
    # SHA-256 of the request's business parameters: same token + other parameters is refused.
    Column("fingerprint", String(64), nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Signature nonces of API requests and request ids of agent requests, kept while a replay of the
# request would still be inside the accepted timestamp window: in the store, so that neither a
# restart nor another node accepts the same signed request twice. ``digest`` is SHA-256 of the
# scope (the key or the instance) and the value, so a long nonce costs no more than a short one.
replay_marks = Table(
    "replay_marks",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_replay_marks_expires_at", "expires_at"),
)

# The API's token bucket per access key (thousandths of a request), shared by every node; used
# when the store is PostgreSQL (one SQLite node keeps its buckets in memory).
api_rate_buckets = Table(
    "api_rate_buckets",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("millitokens", BigInteger, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)

# Console sessions ended by sign-out before they expire (sessions are signed cookies).
console_revocations = Table(
    "console_revocations",
    metadata,
    Column("sid", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_console_revocations_expires_at", "expires_at"),
)

# Failed console sign-ins per user, address or device, shared by every node (several nodes).
console_sign_in_failures = Table(
    "console_sign_in_failures",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=False),
    Index("ix_console_sign_in_failures_last_at", "last_at"),
)

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
    *_rollout_task_columns(),
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
    *_rollout_row_columns(),
    Index("ix_file_task_instances_instance_id_status", "instance_id", "status"),
)

# OOS parameter store: plain parameters ({{oos:name}}) and secret ones ({{oos-secret:name}},
# WindowsPasswordName), one namespace. A secret's value is sealed (service/secret_box.py).
parameters = Table(
    "parameters",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("type", String(16), nullable=False),  # String | StringList | Secret
    Column("value", Text, nullable=False),
    Column("description", String(200), nullable=False, default=""),
    Column("constraints", Text, nullable=False, default=""),
    Column("tags", Text, nullable=False, default="{}"),
    Column("resource_group_id", String(64), nullable=False, default=""),
    Column("version", Integer, nullable=False, default=1),
    Column("key_id", String(64), nullable=False, default=""),
    Column("created_by", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# RAM (2015-05-01): users, custom policies and their versions, attachments. System policies
# live in code (server/service/system_policies.py) and are named here by type "System".
ram_users = Table(
    "ram_users",
    metadata,
    Column("id", String(32), primary_key=True),  # UserId: never reused, survives a rename
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False, default=""),
    Column("email", String(128), nullable=False, default=""),
    Column("mobile_phone", String(32), nullable=False, default=""),
    Column("comments", String(128), nullable=False, default=""),
    # scrypt hash of the console password (CreateLoginProfile); empty: no console sign-in.
    Column("password_hash", Text, nullable=False, default="", server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("last_login_at", BigInteger, nullable=True),
)

ram_policies = Table(
    "ram_policies",
    metadata,
    Column("name", String(128), primary_key=True),  # custom policies only
    Column("description", String(1024), nullable=False, default=""),
    Column("default_version", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

ram_policy_versions = Table(
    "ram_policy_versions",
    metadata,
    Column("policy_name", String(128), ForeignKey("ram_policies.name"), primary_key=True),
    Column("version_id", String(16), primary_key=True),  # v1, v2 ...
    Column("document", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

ram_user_policies = Table(
    "ram_user_policies",
    metadata,
    Column("user_id", String(32), ForeignKey("ram_users.id"), primary_key=True),
    Column("policy_type", String(16), primary_key=True),  # System | Custom
    Column("policy_name", String(128), primary_key=True),
    Column("attached_at", BigInteger, nullable=False),
    Index("ix_ram_user_policies_policy_name", "policy_name"),
)

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

# DescribeCloudAssistantSettings / ModifyCloudAssistantSettings: one JSON document per type.
cloud_assistant_settings = Table(
    "cloud_assistant_settings",
    metadata,
    Column("setting_type", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
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

# Secrets every node of the server must hold alike, created once by the first node to start and
# kept sealed (service/secret_box.py: the parameter key, which every node already shares).
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),  # "console-session" signs console sessions
    Column("sealed", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
