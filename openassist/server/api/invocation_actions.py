"""RunCommand, DescribeInvocations, DescribeInvocationResults, StopInvocation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.protocol.statuses import InvokeRecordStatus
from openassist.server.api import task_params
from openassist.server.api.access import guard_of
from openassist.server.api.envelope import (
    encode_output,
    iso,
    output_encoding,
    page_query,
    paging_fields,
    tag_list,
)
from openassist.server.api.params import Params
from openassist.server.api.registry import Call, action
from openassist.server.api.rollout_fields import rollout_fields
from openassist.server.lifecycle import (
    deprecated_instance_status,
    deprecated_invoke_status,
    record_status,
)
from openassist.server.service import timed
from openassist.server.service.guard import Guard
from openassist.server.service.invocations import Results, TaskView
from openassist.server.store.invocations import InvocationFilter, ResultFilter
from openassist.server.store.paging import PageQuery
from openassist.server.store.records import (
    Command,
    Invocation,
    InvocationInstance,
    InvocationRun,
)


@action("RunCommand", idempotent=True)
async def run_command(call: Call) -> dict[str, Any]:
    p, limits = call.params, call.services.limits
    spec = task_params.command_spec(p, limits, default_encoding="PlainText")
    args = replace(
        task_params.task_args(
            p,
            limits,
            call.access_key_id,
            command_defaults=False,
            now_ms=call.services.clock.now_ms(),
        ),
        guard=guard_of(call),
    )
    command_id, invoke_id = await call.services.invocations.run_command(
        spec, args, keep_command=p.boolean("KeepCommand")
    )
    return {"CommandId": command_id, "InvokeId": invoke_id}


def _status_filter(params: Params) -> tuple[str, ...] | None:
    value = params.text("InvokeStatus")
    if not value:
        return None
    if value == "Finished":  # deprecated spelling: every one-shot task that has ended
        return ("Success", "Failed", "PartialFailed", "Stopped")
    return (value,)


def _instance_fields(
    row: InvocationInstance, task: Invocation, with_output: bool, encoding: str, now_ms: int
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "InstanceId": row.instance_id,
        "InvocationStatus": row.status.value,
        "InstanceInvokeStatus": deprecated_instance_status(row.status, row.error_code),
        "Repeats": row.repeats,
        "ExitCode": row.exit_code if row.exit_code is not None else 0,
        "Dropped": row.dropped,
        "ErrorCode": row.error_code,
        "ErrorInfo": row.error_info,
        "CreationTime": iso(row.created_at),
        "StartTime": iso(row.start_at),
        "FinishTime": iso(row.finish_at),
        "StopTime": iso(row.stop_at),
        "UpdateTime": iso(row.update_at),
        "Timed": timed.is_timed(task) and not row.status.is_final,
    }
    next_run = None if row.status.is_final else timed.next_run_ms(task, now_ms)
    if next_run is not None:  # OpenAssist extension: when the schedule fires next
        fields["NextRunTime"] = iso(next_run)
    if with_output:
        fields["Output"] = encode_output(row.output, encoding)
    return fields


def _invocation_fields(
    view: TaskView, with_output: bool, encoding: str, now_ms: int
) -> dict[str, Any]:
    task, command = view.invocation, view.command
    return {
        **rollout_fields(task, view.instances),
        "InvokeId": task.id,
        "CommandId": command.id,
        "CommandName": command.name,
        "CommandDescription": command.description,
        "CommandType": command.type,
        "CommandContent": encode_output(command.content, encoding),
        "Parameters": task.parameters,
        "RepeatMode": task.repeat_mode,
        "Frequency": task.frequency,
        "Timed": timed.is_timed(task) and not task.status.is_final,
        "Timeout": task.timeout,
        "Username": task.username,
        "InvokedBy": task.invoked_by,  # OpenAssist extension: the RAM user who created the task
        "WorkingDir": task.working_dir,
        "Launcher": command.launcher,
        "TerminationMode": task.termination_mode or "",
        "ContainerId": task.container_id,
        "ContainerName": task.container_name,
        "CreationTime": iso(task.created_at),
        "InvocationStatus": task.status.value,
        "InvokeStatus": deprecated_invoke_status(task.status),
        "Tags": tag_list(view.tags),
        "InvokeInstances": {
            "InvokeInstance": [
                _instance_fields(r, task, with_output, encoding, now_ms) for r in view.instances
            ]
        },
    }


@action("DescribeInvocations")
async def describe_invocations(call: Call) -> dict[str, Any]:
    p = call.params
    with_output = p.boolean("IncludeOutput")
    where = InvocationFilter(
        invoke_id=p.text("InvokeId") or None,
        command_id=p.text("CommandId") or None,
        command_type=p.text("CommandType") or None,
        instance_id=p.text("InstanceId") or None,
        statuses=_status_filter(p),
        repeat_mode=p.text("RepeatMode") or None,
        command_name=p.text("CommandName") or None,
        resource_group_id=p.text("ResourceGroupId") or None,
        tags=task_params.tags(p),
        timed=p.boolean("Timed") if p.text("Timed") else None,
    )
    if with_output and not (where.invoke_id or where.instance_id):
        raise InvalidParameter(api.INCLUDE_OUTPUT_UNNARROWED)
    query = page_query(p)
    page = await call.services.invocations.describe(where, query, guard_of(call))
    encoding = output_encoding(p)
    now_ms = call.services.clock.now_ms()
    return {
        **paging_fields(page, query),
        "Invocations": {
            "Invocation": [_invocation_fields(v, with_output, encoding, now_ms) for v in page.items]
        },
    }


def _result_fields(
    row: InvocationInstance, task: Invocation, command: Command, encoding: str
) -> dict[str, Any]:
    return {
        "InvokeId": row.invoke_id,
        "CommandId": command.id,
        "InstanceId": row.instance_id,
        "InvocationStatus": row.status.value,
        "InvokeRecordStatus": record_status(row.status, row.error_code).value,
        "ExitCode": row.exit_code if row.exit_code is not None else 0,
        "Output": encode_output(row.output, encoding),
        "Dropped": row.dropped,
        "ErrorCode": row.error_code,
        "ErrorInfo": row.error_info,
        "Repeats": row.repeats,
        "StartTime": iso(row.start_at),
        "StopTime": iso(row.stop_at),
        "FinishedTime": iso(row.finish_at),
        "Username": task.username,
        "ContainerId": task.container_id,
        "ContainerName": task.container_name,
        "Launcher": command.launcher,
        "TerminationMode": task.termination_mode or "",
        "Tags": {"Tag": []},
    }


@action("DescribeInvocationResults")
async def describe_invocation_results(call: Call) -> dict[str, Any]:
    p = call.params
    wanted = p.choice(
        "InvokeRecordStatus",
        InvokeRecordStatus,
        not_found=api.INVOKE_RECORD_STATUS_NOT_FOUND,
    )
    where = ResultFilter(
        invoke_id=p.text("InvokeId") or None,
        instance_id=p.text("InstanceId") or None,
        command_id=p.text("CommandId") or None,
        record_status=wanted,
    )
    query = page_query(p)
    if p.boolean("IncludeHistory"):
        return await _history(call, where, query)
    page, tasks, commands = await call.services.invocations.results(where, query, guard_of(call))
    encoding = output_encoding(p)
    results = []
    for row in page.items:
        task = tasks[row.invoke_id]
        results.append(_result_fields(row, task, commands[task.command_id], encoding))
    return {
        "Invocation": {
            **paging_fields(page, query),
            "InvocationResults": {"InvocationResult": results},
        }
    }


async def task_results(call: Call, invoke_id: str, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of one task as DescribeInvocationResults shows them with
    ContentEncoding=PlainText, and only those that action would show this caller
    (WaitInvocationResults' IncludeResults)."""
    return result_rows(
        await call.services.invocations.results(*task_results_query(invoke_id, limit, call))
    )


def task_results_query(
    invoke_id: str, limit: int, call: Call
) -> tuple[ResultFilter, PageQuery, Guard]:
    """What ``task_results`` reads: the arguments of ``InvocationService.results``."""
    guard = guard_of(call, "DescribeInvocationResults")
    return ResultFilter(invoke_id=invoke_id), PageQuery(limit=limit), guard


def result_rows(found: Results) -> list[dict[str, Any]]:
    """``task_results``' rows from what ``InvocationService.results`` read."""
    page, tasks, commands = found
    results = []
    for row in page.items:
        task = tasks[row.invoke_id]
        results.append(_result_fields(row, task, commands[task.command_id], "PlainText"))
    return results


async def _history(call: Call, where: ResultFilter, query: PageQuery) -> dict[str, Any]:
    """IncludeHistory=true: every run of a Period / EveryReboot task, newest first."""
    if not where.invoke_id:
        raise InvalidParameter(api.INCLUDE_HISTORY_WITHOUT_TASK)
    page, task, command = await call.services.invocations.history(
        where.invoke_id, where.instance_id, where.record_status, query
    )
    encoding = output_encoding(call.params)
    results = [
        {
            **_result_fields(_as_row(run), task, command, encoding),
            "Repeats": run.run_number,
        }
        for run in page.items
    ]
    return {
        "Invocation": {
            **paging_fields(page, query),
            "InvocationResults": {"InvocationResult": results},
        }
    }


def _as_row(run: InvocationRun) -> InvocationInstance:
    return InvocationInstance(
        invoke_id=run.invoke_id,
        instance_id=run.instance_id,
        status=run.status,
        error_code=run.error_code,
        error_info=run.error_info,
        exit_code=run.exit_code,
        output=run.output,
        dropped=run.dropped,
        repeats=run.run_number,
        created_at=run.start_at,
        delivered_at=None,
        start_at=run.start_at,
        finish_at=run.finish_at,
        stop_at=None,
        update_at=run.finish_at or run.start_at,
    )


@action("StopInvocation")
async def stop_invocation(call: Call) -> dict[str, Any]:
    p = call.params
    invoke_id = p.text("InvokeId", required=True)
    instance_ids = p.repeated("InstanceId", max_items=50, too_many=api.INSTANCES_TOO_MANY)
    await call.services.invocations.stop(invoke_id, instance_ids, guard_of(call))
    return {}
