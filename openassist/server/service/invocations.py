"""Use cases of tasks: run a command, list tasks and results, stop a task."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy import Connection

from openassist import catalog
from openassist.catalog import api
from openassist.errors import (
    DryRunPassed,
    Forbidden,
    InvalidParameter,
    LimitExceeded,
    NotFound,
)
from openassist.protocol.statuses import (
    CommandType,
    InstanceStatus,
    InvokeRecordStatus,
    RepeatMode,
    TerminationMode,
)
from openassist.server.lifecycle import overall_status
from openassist.server.service import checks, ids, modify, timed
from openassist.server.service.context import (
    ServiceContext,
    command_not_found,
    instance_not_found,
    invoke_not_found,
    kick_pending,
    kick_topic,
    require_in_group,
    require_registered,
)
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.service.parameter_store import check_references
from openassist.server.service.parameters import check_values, store_references
from openassist.server.service.readiness import (
    QUEUED_WHILE,
    absence_info,
    agent_absence_code,
    missing_feature,
)
from openassist.server.service.stopping import stop_rows
from openassist.server.store import (
    commands,
    fleet,
    invocations,
    listings,
    outputs,
    rollouts,
    runs,
    tags,
)
from openassist.server.store.outputs import OutputSlice
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import (
    Command,
    Instance,
    Invocation,
    InvocationInstance,
    InvocationRun,
)


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


@dataclass(frozen=True)
class TaskView:
    """A task with its command and per-instance rows, as the API and console show it."""

    invocation: Invocation
    command: Command
    instances: list[InvocationInstance]
    tags: list[tuple[str, str]] = field(default_factory=list)


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


class InvocationService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def run_command(
        self, spec: CommandSpec, args: TaskArgs, keep_command: bool = False
    ) -> tuple[str, str]:
        """Create the command and the task on every target in one transaction; returns
        (CommandId, InvokeId). Raises NotFound when a target is unknown (nothing is written)."""
        checks.command_fields(vars_of(spec), self._ctx.limits)
        checks.content(spec.content, self._ctx.limits)
        command = new_command(spec, kept=keep_command, now=self._ctx.clock.now_ms())
        invoke_id = await self._start(args, command=command)
        return command.id, invoke_id

    async def invoke_command(self, command_id: str, args: TaskArgs) -> str:
        """Run a saved command; raises NotFound InvalidCmdId.NotFound when there is none."""
        return await self._start(args, command_id=command_id)

    async def _start(
        self, args: TaskArgs, command: Command | None = None, command_id: str = ""
    ) -> str:
        checks.task_fields(args.working_dir, args.username, args.timeout, self._ctx.limits)
        if args.repeat_mode is RepeatMode.PERIOD and not args.frequency:
            raise InvalidParameter(api.FREQUENCY_MISSING)
        now = self._ctx.clock.now_ms()
        invoke_id = ids.invoke_id()

        def create(conn: Connection) -> list[InvocationInstance]:
            saved = command or commands.get_kept(conn, command_id)
            if saved is None:
                raise command_not_found(command_id)
            check_values(saved.content, saved.enable_parameter, args.parameters)
            if saved.enable_parameter:
                check_references(conn, store_references(saved.content))
            timeout = args.timeout if args.timeout is not None else saved.timeout
            if args.frequency:
                timed.checked_frequency(args.frequency, now, timeout, self._ctx.limits)
            instance_ids = self._targets(conn, args)
            targets = fleet.instances_by_id(conn, instance_ids)
            require_registered(targets, instance_ids)
            require_in_group(targets, instance_ids, args.resource_group_id)
            args.guard.check_run(conn, saved, command is None, instance_ids, args.username)
            features = required_features(args)
            rollout = bool(args.max_concurrency or args.max_errors)
            fired = rollout and args.repeat_mode is RepeatMode.PERIOD  # see service.fires
            rows = [
                self._initial_row(
                    invoke_id,
                    targets[i],
                    args.repeat_mode,
                    now,
                    features,
                    args.delivery_deadline,
                    queued=fired,  # each fire looks at the agent again
                )
                for i in instance_ids
            ]
            if fired:  # each fire hands the task out; until the first, the rows wait
                rows = [replace(r, status=timed.fire_wait(r.status)) for r in rows]
            elif rollout:  # store.rollouts lets them go
                rows = [replace(r, held=r.status is InstanceStatus.PENDING) for r in rows]
            if args.repeat_mode is RepeatMode.DRY_RUN:
                dry_run_verdict(rows)  # raises: nothing is written and nothing runs
            invocation = Invocation(
                id=invoke_id,
                command_id=saved.id,
                repeat_mode=args.repeat_mode,
                frequency=args.frequency,
                timeout=timeout,
                working_dir=args.working_dir if args.working_dir is not None else saved.working_dir,
                username=args.username,
                parameters=json.dumps(args.parameters, ensure_ascii=False),
                termination_mode=args.termination_mode,
                status=overall_status(row.status for row in rows),
                access_key_id=args.access_key_id,
                created_at=now,
                container_id=args.container_id,
                container_name=args.container_name,
                max_concurrency=args.max_concurrency,
                max_errors=args.max_errors,
                batch_wait=args.batch_wait,
                delivery_deadline=args.delivery_deadline,
                invoked_by=args.guard.user_name,
                resource_group_id=args.resource_group_id,
                split_run_id=args.split_run_id,
            )
            if command is not None:  # made for this task: its first and only invocation
                invocations.insert_command(conn, replace(command, invoke_times=1))
            else:
                commands.count_invocation(conn, saved.id)
            invocations.insert_invocation(conn, invocation, rows)
            if rollout and not fired:
                # The first batch, at once (kicked after commit).
                rollouts.advance(conn, invoke_id, now, first=True)
                invocations.refresh_overall(conn, invoke_id)
            tags.set_tags(conn, "invocation", invoke_id, args.tags, new=True)
            fleet.count_invoked(conn, instance_ids, now)
            return rows

        rows = await self._ctx.db.write(create)
        await kick_pending(self._ctx.bus, [r for r in rows if not r.held], invoke_id)
        return invoke_id

    def _targets(self, conn: Connection, args: TaskArgs) -> tuple[str, ...]:
        if not args.resource_tags:
            return args.instance_ids
        limit = self._ctx.limits.max_instances_per_call
        found = fleet.ids_with_tags(conn, args.resource_tags, limit + 1)
        if not found:
            wanted = ", ".join(f"{k}={v or '*'}" for k, v in args.resource_tags)
            raise NotFound(api.TAGGED_NONE, wanted=wanted)
        if len(found) > limit:
            raise LimitExceeded(api.TAGGED_TOO_MANY, limit=limit)
        return tuple(found)

    def _initial_row(
        self,
        invoke_id: str,
        instance: Instance,
        repeat_mode: str,
        now: int,
        features: tuple[str, ...] = (),
        deliver_by: int | None = None,
        queued: bool = False,
    ) -> InvocationInstance:
        absence = agent_absence_code(instance, now, self._ctx.limits.heartbeat_online_s * 1000)
        if (deliver_by is not None or queued) and absence in QUEUED_WHILE:
            absence = None  # DeliveryDeadline: it waits for the agent (see sweeps)
        info = absence_info(instance, absence)
        too_old = None if absence else missing_feature(instance, features)
        if too_old:
            absence, info = "ClientNeedUpgrade", too_old
        waiting = InstanceStatus.PENDING
        if repeat_mode in timed.REBOOT_MODES:
            waiting = InstanceStatus.SCHEDULED  # until the instance boots again
        return InvocationInstance(
            invoke_id=invoke_id,
            instance_id=instance.id,
            status=catalog.lookup(absence).status if absence else waiting,
            error_code=absence or "",
            error_info=info,
            exit_code=None,
            output=b"",
            dropped=0,
            repeats=0,
            created_at=now,
            delivered_at=None,
            start_at=None,
            finish_at=now if absence else None,
            stop_at=None,
            update_at=now,
            deliver_by=deliver_by,
        )

    async def describe(
        self, where: invocations.InvocationFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> Page[TaskView]:
        """Tasks on instances the caller may see, each with the rows of those instances only."""

        def query(conn: Connection) -> Page[TaskView]:
            visible = guard.visible(conn)
            found = listings.list_invocations(conn, replace(where, visible=visible), page)
            rows = invocations.instances_of(conn, [i.id for i in found.items])
            if visible is not None:
                shown = set(visible)
                rows = {k: [r for r in v if r.instance_id in shown] for k, v in rows.items()}
            cmds = invocations.commands_by_id(conn, [i.command_id for i in found.items])
            labels = tags.tags_of(conn, "invocation", [i.id for i in found.items])
            views = [TaskView(i, cmds[i.command_id], rows[i.id], labels[i.id]) for i in found.items]
            return Page(items=views, total=found.total, next_key=found.next_key)

        return await self._ctx.db.read(query)

    async def results(
        self, where: invocations.ResultFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> tuple[Page[InvocationInstance], dict[str, Invocation], dict[str, Command]]:
        def query(
            conn: Connection,
        ) -> tuple[Page[InvocationInstance], dict[str, Invocation], dict[str, Command]]:
            seen = replace(where, visible=guard.visible(conn))
            found = listings.list_results(conn, seen, page)
            tasks = invocations.invocations_by_id(conn, [r.invoke_id for r in found.items])
            cmds = invocations.commands_by_id(conn, [t.command_id for t in tasks.values()])
            return found, tasks, cmds

        return await self._ctx.db.read(query)

    async def modify(self, change: modify.Modification) -> str:
        """ModifyInvocationAttribute; returns the task's (maybe new) command id."""

        def new_row(task: Invocation, instance: Instance, now: int) -> InvocationInstance:
            return self._initial_row(task.id, instance, task.repeat_mode, now)

        return await modify.modify(self._ctx, change, new_row)

    async def history(
        self,
        invoke_id: str,
        instance_id: str | None,
        wanted: InvokeRecordStatus | None,
        page: PageQuery,
    ) -> tuple[Page[InvocationRun], Invocation, Command]:
        """Every run of a Period / EveryReboot task; InvalidParameter for another kind of task."""

        def query(conn: Connection) -> tuple[Page[InvocationRun], Invocation, Command]:
            task = invocations.get_invocation(conn, invoke_id)
            if task is None:
                raise invoke_not_found()
            if not timed.keeps_history(task):
                raise InvalidParameter(
                    api.INCLUDE_HISTORY_NOT_TIMED, invoke_id=invoke_id, repeat_mode=task.repeat_mode
                )
            found = runs.list_runs(conn, invoke_id, instance_id, wanted, page)
            command = invocations.commands_by_id(conn, [task.command_id])[task.command_id]
            return found, task, command

        return await self._ctx.db.read(query)

    async def full_output(
        self, invoke_id: str, instance_id: str, offset: int, limit: int
    ) -> tuple[InvocationInstance, OutputSlice]:
        """A slice of the full output kept for one instance of a task (from ``offset``)."""

        def query(conn: Connection) -> tuple[InvocationInstance | None, OutputSlice]:
            row = invocations.get_instance_row(conn, invoke_id, instance_id)
            return row, outputs.read(conn, invoke_id, instance_id, offset, limit)

        row, found = await self._ctx.db.read(query)
        if row is None:
            if await self._ctx.db.read(lambda conn: invocations.get_invocation(conn, invoke_id)):
                raise instance_not_found(instance_id)
            raise invoke_not_found()
        return row, found

    async def stop(
        self, invoke_id: str, instance_ids: Sequence[str], guard: Guard = UNGUARDED
    ) -> None:
        """Ask every (or the given) instance of the task to stop; not started runs are cancelled."""
        now = self._ctx.clock.now_ms()

        def request_stop(conn: Connection) -> list[str]:
            return stop_rows(conn, invoke_id, instance_ids, guard, now)

        stopping = await self._ctx.db.write(request_stop)
        for instance_id in stopping:
            await self._ctx.bus.publish(kick_topic(instance_id), invoke_id)


def dry_run_verdict(rows: Sequence[InvocationInstance]) -> None:
    """RepeatMode=DryRun: the first instance that could not take the task names the error (its
    catalog code, 403); when every check passes, DryRunOperation (400), as ECS answers a dry
    run elsewhere. Parameters, content and targets were checked before this."""
    for row in rows:
        if row.error_code:
            raise Forbidden(
                api.DRY_RUN_REFUSED,
                code=row.error_code,
                instance_id=row.instance_id,
                error_info=row.error_info,
            )
    raise DryRunPassed(api.DRY_RUN_PASSED)
