"""Parameters shared by the actions that define commands and start tasks (API.md 3, 1.11)."""

from __future__ import annotations

import base64
import binascii
import re

from openassist.errors import ApiError
from openassist.protocol.statuses import CommandType, RepeatMode, TerminationMode
from openassist.server import json_input
from openassist.server.api.params import Params
from openassist.server.service.context import Limits
from openassist.server.service.invocations import CommandSpec, TaskArgs

MAX_TAGS = 20
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# API.md 3.7. Any runtime scheme passes here: which runtimes an instance has is for its agent to
# say (UnsupportedContainerRuntime), as the server cannot know.
_CONTAINER_ID = re.compile(r"(?:[a-z][a-z0-9.+-]{0,31}://)?[0-9a-fA-F]{64}")
_CONTAINER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def content(params: Params, max_base64: int, default_encoding: str) -> bytes:
    """``CommandContent`` decoded per ``ContentEncoding`` (RunCommand: PlainText by default,
    CreateCommand: Base64); an unknown encoding falls back to the default, as documented."""
    text = params.text("CommandContent", required=True)
    encoding = params.text("ContentEncoding", default=default_encoding).lower()
    if encoding not in ("plaintext", "base64"):
        encoding = default_encoding.lower()
    if encoding == "base64":
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                "CmdContent.DecodeError",
                "CommandContent is not valid Base64; encode the script with Base64 or set "
                "ContentEncoding=PlainText.",
            ) from None
    else:
        raw = text.encode("utf-8")
    if not raw.strip():
        raise ApiError("InvalidCommandText", "CommandContent is empty; give the script to run.")
    size = len(base64.b64encode(raw))
    if size > max_base64:
        raise ApiError(
            "CmdContent.ExceedLimit",
            f"CommandContent is {size} bytes after Base64 encoding; the limit is {max_base64}.",
            403,
        )
    return raw


def timeout(params: Params, limits: Limits, default: int | None) -> int | None:
    if default is None and not params.text("Timeout"):
        return None
    return params.integer(
        "Timeout",
        default=default or 60,
        minimum=1,
        maximum=limits.max_timeout_s,
        too_large_code="InvalidTimeout.ExceedLimit",
    )


def command_spec(params: Params, limits: Limits, default_encoding: str) -> CommandSpec:
    command_type = params.choice(
        "Type", CommandType, not_found_code="InvalidCmdType.NotFound", status=404
    )
    if command_type is None:
        params.text("Type", required=True)
    assert command_type is not None
    return CommandSpec(
        type=command_type,
        content=content(params, limits.max_content_base64, default_encoding),
        timeout=timeout(params, limits, 60) or 60,
        name=params.text("Name", max_len=128, too_long_code="CmdName.ExceedLimit"),
        description=params.text("Description", max_len=512, too_long_code="CmdDesc.ExceedLimit"),
        working_dir=params.text("WorkingDir", max_len=200),
        launcher=params.text(
            "Launcher", max_len=1024, too_long_code="InvalidLauncher.LengthLimitExceeded"
        ),
        enable_parameter=params.boolean("EnableParameter"),
    )


def tags(params: Params, name: str = "Tag") -> tuple[tuple[str, str], ...]:
    """``Tag.N.Key`` / ``Tag.N.Value`` with the rules of API.md 1.11."""
    prefix = "Resource" if name == "ResourceTag" else ""
    found: dict[int, dict[str, str]] = {}
    params.reads_family(name + ".")
    for key, value in params.raw().items():
        parts = key.split(".")
        if (
            len(parts) == 3
            and parts[0] == name
            and parts[1].isdigit()
            and parts[2] in ("Key", "Value")
        ):
            found.setdefault(int(parts[1]), {})[parts[2]] = value
    if len(found) > MAX_TAGS:
        raise ApiError(f"NumberExceed.{prefix}Tags", f"At most {MAX_TAGS} tags may be given.")
    pairs: dict[str, str] = {}
    for index in sorted(found):
        key, value = found[index].get("Key", ""), found[index].get("Value", "")
        if not key:
            raise ApiError(f"MissingParameter.{prefix}TagKey", f"{name}.{index}.Key is missing.")
        if len(key) > 64 or key.startswith(("aliyun", "acs:")) or "://" in key:
            raise ApiError(
                f"Invalid{prefix}TagKey.Malformed",
                f"{name}.{index}.Key must be 1-64 characters, not start with aliyun or acs: and "
                "not contain http:// or https://.",
            )
        if len(value) > 128 or "http://" in value or "https://" in value:
            raise ApiError(
                f"Invalid{prefix}TagValue.Malformed",
                f"{name}.{index}.Value must be at most 128 characters without http:// or https://.",
            )
        if key in pairs:
            raise ApiError(f"Duplicate.{prefix}TagKey", f"The tag key {key!r} is given twice.")
        pairs[key] = value
    return tuple(pairs.items())


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose keys differ also when case is ignored (placeholder names do)."""
    seen: set[str] = set()
    for key, _value in pairs:
        if key.lower() in seen:
            raise ApiError(
                "ParameterKey.Duplicate",
                f"The parameter {key!r} is given twice in Parameters (names ignore case).",
                403,
            )
        seen.add(key.lower())
    return dict(pairs)


def parameters(params: Params) -> dict[str, str]:
    """``Parameters``: a JSON object of at most 10 string values (API.md 3.2)."""
    text = params.text("Parameters")
    if not text:
        return {}
    try:
        value = json_input.loads(text, object_pairs_hook=_unique_keys)
    except ValueError:
        raise ApiError("InvalidParameter.Parameters", "Parameters must be a JSON object.") from None
    if not isinstance(value, dict):
        raise ApiError("InvalidParameter.Parameters", "Parameters must be a JSON object.")
    if len(value) > 10:
        raise ApiError("ParameterCount.ExceedLimit", "At most 10 parameters may be given.", 403)
    for key, item in value.items():
        if not _PARAMETER_NAME.fullmatch(key):
            raise ApiError(
                "ParameterKey.ExceedLimit" if len(key) > 64 else "InvalidParameter.Parameters",
                f"Parameter name {key!r} must be 1-64 of A-Z a-z 0-9 _ -.",
                403 if len(key) > 64 else 400,
            )
        if not isinstance(item, str):
            raise ApiError(
                "ParameterType.NotSupported",
                f"The value of parameter {key!r} must be a string.",
                403,
            )
    return dict(value)


def container(params: Params) -> tuple[str, str]:
    """``ContainerId`` and ``ContainerName``, each empty or well formed (API.md 3.7)."""
    container_id = params.text("ContainerId")
    if container_id and not _CONTAINER_ID.fullmatch(container_id):
        raise ApiError(
            "InvalidContainerId.Malformed",
            "ContainerId must be the container's 64-character hexadecimal id, optionally "
            "prefixed with its runtime (docker://, containerd:// or cri-o://).",
        )
    name = params.text("ContainerName")
    if name and not _CONTAINER_NAME.fullmatch(name):
        raise ApiError(
            "InvalidContainerName.Malformed",
            "ContainerName must start with a letter or digit, contain only letters, digits, "
            "'.', '_' and '-', and be at most 255 characters long.",
        )
    return container_id, name


def task_args(
    params: Params, limits: Limits, access_key_id: str, command_defaults: bool
) -> TaskArgs:
    """The task part of RunCommand / InvokeCommand. With ``command_defaults`` (InvokeCommand),
    an absent Timeout or WorkingDir means the command's own value."""
    instance_ids = params.repeated(
        "InstanceId",
        max_items=limits.max_instances_per_call,
        too_many_code="InstanceIds.ExceedLimit",
    )
    resource_tags = tags(params, "ResourceTag")
    if instance_ids and resource_tags:
        raise ApiError(
            "InvalidResourceTag.ConflictWithInstanceIds",
            "Give either InstanceId.N or ResourceTag.N to choose the instances, not both.",
        )
    if not instance_ids and not resource_tags:
        raise ApiError(
            "MissingParam.InstanceId",
            "Give at least one InstanceId.N, or ResourceTag.N to run on the instances tagged so.",
        )
    repeat_mode = params.choice(
        "RepeatMode",
        RepeatMode,
        default=RepeatMode.ONCE,
        not_found_code="InvalidRepeatMode.NotFound",
    )
    assert repeat_mode is not None
    frequency = params.text("Frequency", max_len=256).strip()
    if frequency and repeat_mode is not RepeatMode.DRY_RUN:
        repeat_mode = RepeatMode.PERIOD  # a Frequency makes the task periodic (API.md 2.3)
    elif repeat_mode is RepeatMode.PERIOD:
        raise ApiError(
            "MissingParam.Frequency", "RepeatMode=Period needs a Frequency: rate, at or cron."
        )
    termination = params.choice(
        "TerminationMode", TerminationMode, not_found_code="InvalidTerminationMode.NotFound"
    )
    working_dir = params.text("WorkingDir", max_len=200)
    container_id, container_name = container(params)
    return TaskArgs(
        instance_ids=tuple(dict.fromkeys(instance_ids)),
        access_key_id=access_key_id,
        timeout=timeout(params, limits, None if command_defaults else 60),
        working_dir=working_dir if working_dir or not command_defaults else None,
        username=params.text("Username", max_len=255, too_long_code="Username.ExceedLimit"),
        repeat_mode=repeat_mode,
        frequency=frequency,
        parameters=parameters(params),
        termination_mode=termination.value if termination else "",
        tags=tags(params),
        container_id=container_id,
        container_name=container_name,
        resource_tags=resource_tags,
    )
