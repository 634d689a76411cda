"""What a task is made of: its command (``CommandSpec``) and how the task runs it (``TaskArgs``),
as the API and the console hand them to the service."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from openassist.protocol.statuses import CommandType, RepeatMode, TerminationMode
from openassist.server.service import ids, timed
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.store.records import Command


@dataclass(frozen=True)
class CommandSpec:
    """What a command is: saved by CreateCommand, or made on the fly by RunCommand."""

    type: CommandType
    content: bytes
    timeout: int
    name: str = ""
    description: str = ""
    working_dir: str = ""
    launcher: str = ""
    enable_parameter: bool = False


def vars_of(spec: CommandSpec) -> dict[str, Any]:
    """The fields of ``spec`` by name, for the checks of ``checks.command_fields``."""
    return {f.name: getattr(spec, f.name) for f in fields(spec)}


@dataclass(frozen=True)
class TaskArgs:
    """How one task runs it; empty strings and None mean "the command's own value"."""

    instance_ids: tuple[str, ...]
    access_key_id: str
    timeout: int | None = None
    working_dir: str | None = None
    username: str = ""
    repeat_mode: RepeatMode = RepeatMode.ONCE
    frequency: str = ""  # Period: rate(...), at(...) or cron (checked when the task starts)
    parameters: dict[str, str] = field(default_factory=dict)
    termination_mode: TerminationMode | None = None  # None: the agent's default
    tags: tuple[tuple[str, str], ...] = ()
    container_id: str = ""
    container_name: str = ""
    # Targets chosen by tag instead of by id (ResourceTag.N); resolved when the task is created.
    resource_tags: tuple[tuple[str, str], ...] = ()
    resource_group_id: str = ""  # ResourceGroupId: every target must be in it ("": any)
    # Rollout limits, validated, as given: "" none, "N" or "N%" (README, "Rollouts").
    max_concurrency: str = ""
    max_errors: str = ""
    batch_wait: int = 0  # seconds a slot freed by a finished target stays empty
    delivery_deadline: int | None = None  # ms: an offline target waits for its agent until then
    guard: Guard = UNGUARDED  # the caller's policies, checked on every target before writing
    split_run_id: str | None = None  # the console run this task is one part of


def new_command(spec: CommandSpec, kept: bool, now: int) -> Command:
    return Command(
        id=ids.command_id(),
        name=spec.name,
        description=spec.description,
        type=spec.type,
        content=spec.content,
        working_dir=spec.working_dir,
        timeout=spec.timeout,
        enable_parameter=spec.enable_parameter,
        launcher=spec.launcher,
        kept=kept,
        created_at=now,
    )


def required_features(args: TaskArgs) -> tuple[str, ...]:
    """What a task needs of the agent beyond running a script (see protocol.agent_versions)."""
    features: tuple[str, ...] = ("container",) if args.container_id or args.container_name else ()
    if args.frequency and timed.needs_new_agent(args.frequency):
        features += ("schedule",)
    return features
