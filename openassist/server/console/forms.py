"""From console forms to the service layer's typed arguments (CommandSpec, TaskArgs,
SendFileArgs). Bad input raises ApiError with the API's codes, shown on the form."""

from __future__ import annotations

import base64
import re

from openassist.errors import ApiError
from openassist.protocol.statuses import CommandType, RepeatMode
from openassist.server.console.web import Form
from openassist.server.service.context import Limits
from openassist.server.service.files import FILE_MODE, FILE_MODE_RULE, SendFileArgs
from openassist.server.service.fleet import FleetService
from openassist.server.service.invocations import CommandSpec, TaskArgs

MAX_FILE_BASE64 = 32 * 1024


def integer(form: Form, name: str, default: int, maximum: int) -> int:
    text = form.get(name)
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise ApiError(f"Invalid{name}", f"{name} must be a whole number from 1 to {maximum}.")
    return int(text)


def parse_tag(text: str) -> tuple[str, str] | None:
    """``key=value`` (or just ``key``: any value)."""
    key, _, value = text.partition("=")
    return (key.strip(), value.strip()) if key.strip() else None


def chosen(form: Form) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The instance ids ticked or typed, or the tag to target (one of the two)."""
    typed = [i for text in form.all("instance_ids") for i in re.split(r"[\s,]+", text) if i]
    ids = tuple(dict.fromkeys([*form.all("instance_id"), *typed]))
    tag = parse_tag(form.get("tag"))
    if tag is not None and ids:
        raise ApiError(
            "InvalidParameter.Targets", "Choose instances or a tag, not both: clear one of them."
        )
    if tag is None and not ids:
        raise ApiError("MissingParam.InstanceId", "Choose at least one instance or a tag.")
    return ids, (tag,) if tag else ()


async def resolved(form: Form, fleet: FleetService, limit: int) -> tuple[str, ...]:
    """Instance ids for a task kind that takes ids only (SendFile): a tag is resolved through
    the fleet service."""
    ids, tags = chosen(form)
    if tags:
        ids = tuple(await fleet.instances_tagged(tags, limit + 1))
        if not ids:
            raise ApiError("InvalidResourceTag.InstanceNotFound", "No instance carries the tag.")
    if len(ids) > limit:
        raise ApiError("InstanceIds.ExceedLimit", f"At most {limit} instances per task.")
    return ids


def command_spec(form: Form, limits: Limits) -> CommandSpec:
    try:
        command_type = CommandType(form.get("type") or CommandType.RUN_SHELL_SCRIPT.value)
    except ValueError:
        raise ApiError("InvalidCmdType.NotFound", "Choose a command type from the list.") from None
    content = form.raw("content").encode()
    if not content.strip():
        raise ApiError("InvalidCommandText", "The script is empty; write the commands to run.")
    if len(base64.b64encode(content)) > limits.max_content_base64:
        raise ApiError(
            "CmdContent.ExceedLimit",
            f"The script is over {limits.max_content_base64} bytes after Base64 encoding.",
        )
    return CommandSpec(
        type=command_type,
        content=content,
        timeout=integer(form, "Timeout", 60, limits.max_timeout_s),
        name=form.get("name")[:128],
        description=form.get("description")[:512],
        working_dir=form.get("working_dir")[:200],
        enable_parameter=form.checked("enable_parameter") or bool(form.get("parameters")),
    )


def parameters(form: Form) -> dict[str, str]:
    """``name=value`` lines."""
    values: dict[str, str] = {}
    for line in form.raw("parameters").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ApiError("InvalidParameter.Parameters", f"Write parameters as name=value: {line}")
        values[name.strip()] = value
    return values


def task_args(form: Form, limits: Limits, actor: str, saved: bool) -> TaskArgs:
    """The task part; for a saved command (``saved``) empty fields keep the command's values.
    Targets are instance ids, or a tag that the task service resolves (as ResourceTag.N)."""
    instance_ids, resource_tags = chosen(form)
    if len(instance_ids) > limits.max_instances_per_call:
        raise ApiError(
            "InstanceIds.ExceedLimit", f"At most {limits.max_instances_per_call} instances."
        )
    periodic = form.get("schedule") == "period"
    timeout_given = bool(form.get("Timeout"))
    return TaskArgs(
        instance_ids=instance_ids,
        access_key_id=actor,
        timeout=integer(form, "Timeout", 60, limits.max_timeout_s)
        if timeout_given or not saved
        else None,
        working_dir=form.get("working_dir")[:200] or (None if saved else ""),
        username=form.get("username")[:255],
        repeat_mode=RepeatMode.PERIOD if periodic else RepeatMode.ONCE,
        frequency=form.get("frequency") if periodic else "",
        parameters=parameters(form),
        resource_tags=resource_tags,
    )


def send_file_args(form: Form, actor: str, instance_ids: tuple[str, ...]) -> SendFileArgs:
    name, target_dir, mode = form.get("name"), form.get("target_dir"), form.get("mode") or "0644"
    if not name:
        raise ApiError("MissingParameter.Name", "Give the file a name.")
    if not target_dir.startswith("/"):
        raise ApiError("FileTargetDir.Invalid", "The target directory must be an absolute path.")
    if not FILE_MODE.fullmatch(mode):
        raise ApiError("FileMode.Invalid", FILE_MODE_RULE)
    content = form.raw("content").encode()
    if len(base64.b64encode(content)) > MAX_FILE_BASE64:
        raise ApiError("FileSize.ExceedLimit", "The content is over 32 KB after Base64 encoding.")
    return SendFileArgs(
        instance_ids=instance_ids,
        name=name[:255],
        target_dir=target_dir[:255],
        content=content,
        content_type="PlainText",
        file_mode=mode,
        owner=form.get("owner")[:64] or "root",
        group=form.get("group")[:64] or "root",
        overwrite=form.checked("overwrite"),
        timeout=max(10, integer(form, "Timeout", 60, 86400)),
        description=form.get("description")[:512],
        access_key_id=actor,
    )
