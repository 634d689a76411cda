"""CreateCommand, DescribeCommands, ModifyCommand, DeleteCommand, InvokeCommand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openassist.catalog import api
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
from openassist.server.api.registry import Call, action
from openassist.server.service.commands import CommandView
from openassist.server.service.parameters import parameter_names
from openassist.server.store.commands import CommandFilter


@action("CreateCommand", idempotent=True)
async def create_command(call: Call) -> dict[str, Any]:
    p = call.params
    p.text("Name", required=True)
    spec = task_params.command_spec(p, call.services.limits, default_encoding="Base64")
    command_id = await call.services.commands.create(spec, task_params.tags(p))
    return {"CommandId": command_id}


def _command_fields(view: CommandView, encoding: str) -> dict[str, Any]:
    command = view.command
    names = parameter_names(command.content) if command.enable_parameter else []
    return {
        "CommandId": command.id,
        "Name": command.name,
        "Description": command.description,
        "Type": command.type,
        "CommandContent": encode_output(command.content, encoding),
        "WorkingDir": command.working_dir,
        "Timeout": command.timeout,
        "EnableParameter": command.enable_parameter,
        "ParameterNames": {"ParameterName": names},
        "ParameterDefinitions": {"ParameterDefinition": []},
        "InvokeTimes": command.invoke_times,
        "CreationTime": iso(command.created_at),
        "Launcher": command.launcher,
        "ResourceGroupId": "",
        "Tags": tag_list(view.tags),
    }


@action("DescribeCommands")
async def describe_commands(call: Call) -> dict[str, Any]:
    p = call.params
    where = CommandFilter(
        command_id=p.text("CommandId") or None,
        name=p.text("Name") or None,
        description=p.text("Description") or None,
        type=p.text("Type") or None,
        tags=task_params.tags(p),
    )
    query = page_query(p)
    page = await call.services.commands.describe(where, query, guard_of(call))
    encoding = output_encoding(p)
    return {
        **paging_fields(page, query),
        "Commands": {"Command": [_command_fields(view, encoding) for view in page.items]},
    }


@action("ModifyCommand")
async def modify_command(call: Call) -> dict[str, Any]:
    p, limits = call.params, call.services.limits
    command_id = p.text("CommandId", required=True)
    changes: dict[str, Any] = {}
    given = p.raw()
    if "Name" in given:
        changes["name"] = p.text("Name", max_len=128, too_long=api.COMMAND_NAME_TOO_LONG)
    if "Description" in given:
        changes["description"] = p.text(
            "Description", max_len=512, too_long=api.COMMAND_DESCRIPTION_TOO_LONG
        )
    if "WorkingDir" in given:
        changes["working_dir"] = p.text("WorkingDir", max_len=200)
    if "Launcher" in given:
        changes["launcher"] = p.text("Launcher", max_len=1024, too_long=api.LAUNCHER_TOO_LONG)
    if p.text("Timeout"):
        changes["timeout"] = task_params.timeout(p, limits, 60)
    # CommandContent is deprecated and ignored here, as documented: content and Type are fixed.
    await call.services.commands.modify(command_id, changes)
    return {}


@action("DeleteCommand")
async def delete_command(call: Call) -> dict[str, Any]:
    await call.services.commands.delete(call.params.text("CommandId", required=True))
    return {}


@action("InvokeCommand", idempotent=True)
async def invoke_command(call: Call) -> dict[str, Any]:
    p = call.params
    command_id = p.text("CommandId", required=True)
    args = replace(
        task_params.task_args(
            p,
            call.services.limits,
            call.access_key_id,
            command_defaults=True,
            now_ms=call.services.clock.now_ms(),
        ),
        guard=guard_of(call),
    )
    invoke_id = await call.services.invocations.invoke_command(command_id, args)
    return {"InvokeId": invoke_id}
