"""Rows as frozen data, decoupled from SQLAlchemy's Row type. A column holding one of a closed
set of values is an enum here: the store converts it when it reads a row (``from_row``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openassist.protocol.statuses import (
    CommandType,
    InstanceStatus,
    InvocationStatus,
    RepeatMode,
    TerminationMode,
)


class RegistrationState(StrEnum):
    """Whether a managed instance is still ours (``instances.registration_state``)."""

    REGISTERED = "registered"
    DEREGISTERED = "deregistered"  # DeregisterManagedInstance: the row stays for its history
    RELEASED = "released"  # the instance was released (inventory)


class AgentState(StrEnum):
    """What the agent said of itself in its last heartbeat (``instances.agent_state``)."""

    RUNNING = ""  # heartbeating as usual
    UPGRADING = "upgrading"  # connected, about to restart into a new version
    STOPPED = "stopped"  # goodbye: the agent service stopped
    SHUTDOWN = "shutdown"  # goodbye: the machine is shutting down


# An agent that said goodbye ("upgrading" is connected, busy restarting).
GONE_STATES = (AgentState.STOPPED, AgentState.SHUTDOWN)


@dataclass(frozen=True)
class AccessKey:
    id: str
    sealed_secret: str
    owner: str
    enabled: bool


@dataclass(frozen=True)
class Activation:
    id: str
    code_sha256: str
    instance_name: str
    description: str
    instance_count: int
    registered_count: int
    deregistered_count: int
    ttl_hours: int
    ip_range: str
    disabled: bool
    created_at: int
    resource_group_id: str = ""  # "" when none; the instances it registers carry it


@dataclass(frozen=True)
class Instance:
    id: str
    name: str
    hostname: str
    machine_id: str
    activation_id: str | None
    os_type: str
    os_version: str
    agent_version: str
    public_key: str
    intranet_ip: str
    internet_ip: str
    registered_at: int
    last_heartbeat_at: int | None
    boot_id: str
    registration_state: RegistrationState
    last_invoked_at: int | None
    invocation_count: int
    agent_state: AgentState = AgentState.RUNNING
    access_denied_at: int | None = None
    # What our agent said in its last heartbeat (the official agent says neither).
    agent_capabilities: str = ""  # comma-separated
    running_tasks: int | None = None
    agent_faults: str = ""  # its own duties failing ("fetch: OSError: ..."), "" when none
    resource_group_id: str = ""  # its activation's, "" when none


@dataclass(frozen=True)
class Command:
    id: str
    name: str
    description: str
    type: CommandType
    content: bytes
    working_dir: str
    timeout: int
    enable_parameter: bool
    launcher: str
    kept: bool
    created_at: int
    deleted: bool = False
    invoke_times: int = 0


@dataclass(frozen=True)
class Invocation:
    id: str
    command_id: str
    repeat_mode: RepeatMode
    frequency: str
    timeout: int
    working_dir: str
    username: str
    parameters: str
    termination_mode: TerminationMode | None  # None: the agent's default ("" in the column)
    status: InvocationStatus
    access_key_id: str
    created_at: int
    container_id: str = ""
    container_name: str = ""
    version: int = 0
    results_seq: int = 0  # raised with every change to a row (WaitInvocationResults' cursor)
    resource_group_id: str = ""  # the ResourceGroupId it was created with ("": none)
    invoked_by: str = ""  # the RAM user whose key created the task
    max_concurrency: str = ""  # rollout limits as given (README, "Rollouts")
    max_errors: str = ""
    batch_wait: int = 0  # seconds a freed slot stays empty
    stop_reason: str = ""  # why the rollout stopped early
    delivery_deadline: int | None = None  # ms; None: the default delivery window
    fires: int = 0  # a server-fired Period task (rollout limits): fires so far
    fired_at: int | None = None  # and when the last one was
    split_run_id: str | None = None  # the console run it is part of (store.split_runs)


@dataclass(frozen=True)
class InvocationInstance:
    invoke_id: str
    instance_id: str
    status: InstanceStatus
    error_code: str
    error_info: str
    exit_code: int | None
    output: bytes
    dropped: int
    repeats: int
    created_at: int
    delivered_at: int | None
    start_at: int | None
    finish_at: int | None
    stop_at: int | None
    update_at: int
    full_size: int = 0
    full_truncated: bool = False
    held: bool = False  # waiting for its rollout's MaxConcurrency (never handed out)
    released_at: int | None = None  # when a held row was let go (its delivery window starts)
    deliver_by: int | None = None  # the task's DeliveryDeadline, instead of the window
    fire: int = 0  # the fire of a server-fired Period task it last joined


@dataclass(frozen=True)
class InvocationRun:
    """One run of a timed task on one instance (a skipped fire is a Cancelled run)."""

    invoke_id: str
    instance_id: str
    start_at: int
    status: InstanceStatus
    error_code: str
    error_info: str
    exit_code: int | None
    output: bytes
    dropped: int
    finish_at: int | None
    run_number: int


@dataclass(frozen=True)
class FileTask:
    id: str
    name: str
    description: str
    content: bytes
    content_type: str
    file_mode: str
    owner: str
    group: str
    overwrite: bool
    target_dir: str
    timeout: int
    status: InvocationStatus
    access_key_id: str
    created_at: int
    results_seq: int = 0  # raised with every change to a row (WaitInvocationResults' cursor)
    invoked_by: str = ""  # the RAM user whose key created the task
    max_concurrency: str = ""  # rollout limits as given (README, "Rollouts")
    max_errors: str = ""
    batch_wait: int = 0  # seconds a freed slot stays empty
    stop_reason: str = ""  # why the rollout stopped early
    delivery_deadline: int | None = None  # ms; None: the default delivery window


@dataclass(frozen=True)
class FileTaskInstance:
    invoke_id: str
    instance_id: str
    status: InstanceStatus
    error_code: str
    error_info: str
    created_at: int
    delivered_at: int | None
    start_at: int | None
    finish_at: int | None
    update_at: int
    held: bool = False  # waiting for its rollout's MaxConcurrency (never handed out)
    released_at: int | None = None  # when a held row was let go (its delivery window starts)
    deliver_by: int | None = None  # the task's DeliveryDeadline, instead of the window


@dataclass(frozen=True)
class Parameter:
    id: str
    name: str
    type: str  # String | StringList | Secret
    value: str  # sealed for Secret
    description: str
    constraints: str
    tags: str  # JSON object
    resource_group_id: str
    version: int
    key_id: str
    created_by: str
    created_at: int


@dataclass(frozen=True)
class RamUser:
    id: str
    name: str
    display_name: str
    email: str
    mobile_phone: str
    comments: str
    password_hash: str
    created_at: int
    updated_at: int
    last_login_at: int | None


@dataclass(frozen=True)
class RamPolicy:
    """A custom policy with its default version's document."""

    name: str
    description: str
    default_version: str
    created_at: int
    updated_at: int
    document: str


@dataclass(frozen=True)
class PolicyVersion:
    policy_name: str
    version_id: str
    document: str
    created_at: int


@dataclass(frozen=True)
class Attachment:
    user_id: str
    policy_type: str  # System | Custom
    policy_name: str
    attached_at: int


def instance_from_row(row: Any) -> Instance:
    data = dict(row._mapping)
    data["registration_state"] = RegistrationState(data["registration_state"])
    data["agent_state"] = AgentState(data["agent_state"])
    return Instance(**data)


def command_from_row(row: Any) -> Command:
    data = dict(row._mapping)
    data["type"] = CommandType(data["type"])
    return Command(**data)


def column_values(record: Any) -> dict[str, Any]:
    """A record's fields by name, as its row's column values. Shallow: ``dataclasses.asdict``
    deep-copies every value (~40 us a row, per target of each RunCommand), and a record's
    fields are plain values."""
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def invocation_values(invocation: Invocation) -> dict[str, Any]:
    """The column values of ``invocation`` (None termination mode is stored as "")."""
    values = {f: getattr(invocation, f) for f in Invocation.__dataclass_fields__}
    values["termination_mode"] = invocation.termination_mode or ""
    return values


def invocation_from_row(row: Any) -> Invocation:
    data = dict(row._mapping)
    for own in ("status_counts", "command_type", "target_set"):  # the store's own
        data.pop(own, None)
    data["status"] = InvocationStatus(data["status"])
    data["repeat_mode"] = RepeatMode(data["repeat_mode"])
    data["termination_mode"] = (
        TerminationMode(data["termination_mode"]) if data["termination_mode"] else None
    )
    return Invocation(**data)


def result_from_row(row: Any) -> InvocationInstance:
    """A per-instance row of a command task."""
    data = dict(row._mapping)
    data["status"] = InstanceStatus(data["status"])
    return InvocationInstance(**data)
