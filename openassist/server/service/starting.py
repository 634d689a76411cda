"""Starting a task: RunCommand and InvokeCommand write the task and its per-instance rows (each
row Pending, or ended at once with why its agent cannot take it) and kick the agents."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Connection

from openassist import catalog
from openassist.catalog import api
from openassist.errors import DryRunPassed, Forbidden, InvalidParameter, LimitExceeded, NotFound
from openassist.protocol.statuses import InstanceStatus, RepeatMode
from openassist.server.lifecycle import overall_status
from openassist.server.service import checks, ids, timed
from openassist.server.service.context import (
    ServiceContext,
    command_not_found,
    kick_pending,
    require_in_group,
    require_registered,
)
from openassist.server.service.parameter_store import check_references
from openassist.server.service.parameters import check_values, store_references
from openassist.server.service.readiness import (
    QUEUED_WHILE,
    absence_info,
    agent_absence_code,
    missing_feature,
)
from openassist.server.service.task_specs import TaskArgs, required_features
from openassist.server.store import commands, fleet, invocations, rollouts, tags
from openassist.server.store.records import Command, Instance, Invocation, InvocationInstance


async def start_task(
    ctx: ServiceContext, args: TaskArgs, command: Command | None = None, command_id: str = ""
) -> str:
    """Create the task on every target in one transaction, with ``command`` (made for it) or the
    saved command ``command_id``; returns the InvokeId. Raises NotFound when a target or the
    command is unknown (nothing is written)."""
    checks.task_fields(args.working_dir, args.username, args.timeout, ctx.limits)
    if args.repeat_mode is RepeatMode.PERIOD and not args.frequency:
        raise InvalidParameter(api.FREQUENCY_MISSING)
    now = ctx.clock.now_ms()
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
            timed.checked_frequency(args.frequency, now, timeout, ctx.limits)
        instance_ids = _targets(ctx, conn, args)
        targets = fleet.instances_by_id(conn, instance_ids)
        require_registered(targets, instance_ids)
        require_in_group(targets, instance_ids, args.resource_group_id)
        args.guard.check_run(conn, saved, command is None, instance_ids, args.username)
        features = required_features(args)
        rollout = bool(args.max_concurrency or args.max_errors)
        fired = rollout and args.repeat_mode is RepeatMode.PERIOD  # see service.fires
        rows = [
            initial_row(
                ctx,
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

    rows = await ctx.db.write(create)
    await kick_pending(ctx.bus, [r for r in rows if not r.held], invoke_id)
    return invoke_id


def _targets(ctx: ServiceContext, conn: Connection, args: TaskArgs) -> tuple[str, ...]:
    if not args.resource_tags:
        return args.instance_ids
    limit = ctx.limits.max_instances_per_call
    found = fleet.ids_with_tags(conn, args.resource_tags, limit + 1)
    if not found:
        wanted = ", ".join(f"{k}={v or '*'}" for k, v in args.resource_tags)
        raise NotFound(api.TAGGED_NONE, wanted=wanted)
    if len(found) > limit:
        raise LimitExceeded(api.TAGGED_TOO_MANY, limit=limit)
    return tuple(found)


def initial_row(
    ctx: ServiceContext,
    invoke_id: str,
    instance: Instance,
    repeat_mode: str,
    now: int,
    features: tuple[str, ...] = (),
    deliver_by: int | None = None,
    queued: bool = False,
) -> InvocationInstance:
    """The row a new task (or a target ModifyInvocationAttribute adds) starts with on ``instance``:
    Pending (Scheduled for the reboot modes), or ended at once with why its agent cannot take it."""
    absence = agent_absence_code(instance, now, ctx.limits.heartbeat_online_s * 1000)
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
