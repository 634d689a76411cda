"""Parameters shared by the actions that define commands and start tasks (API.md 3, 1.11)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from openassist.catalog import api
from openassist.errors import InvalidParameter, LimitExceeded
from openassist.protocol.statuses import CommandType, RepeatMode, TerminationMode
from openassist.server import json_input
from openassist.server.api.params import Params
from openassist.server.service import rollout_params
from openassist.server.service.context import Limits
from openassist.server.service.task_specs import CommandSpec, TaskArgs

MAX_TAGS = 20
_ONE_SHOT = (RepeatMode.ONCE, RepeatMode.DRY_RUN)
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
            raise InvalidParameter(api.CONTENT_NOT_BASE64) from None
    else:
        raw = text.encode("utf-8")
    if not raw.strip():
        raise InvalidParameter(api.CONTENT_EMPTY)
    size = len(base64.b64encode(raw))
    if size > max_base64:
        raise LimitExceeded(api.CONTENT_TOO_LARGE, size=size, limit=max_base64)
    return raw


def timeout(params: Params, limits: Limits, default: int | None) -> int | None:
    if default is None and not params.text("Timeout"):
        return None
    return params.integer(
        "Timeout",
        default=default or 60,
        minimum=1,
        maximum=limits.max_timeout_s,
        too_large=api.TIMEOUT_TOO_LARGE,
    )


def command_spec(params: Params, limits: Limits, default_encoding: str) -> CommandSpec:
    command_type = params.choice("Type", CommandType, not_found=api.COMMAND_TYPE_NOT_FOUND)
    if command_type is None:
        params.text("Type", required=True)
    assert command_type is not None
    return CommandSpec(
        type=command_type,
        content=content(params, limits.max_content_base64, default_encoding),
        timeout=timeout(params, limits, 60) or 60,
        name=params.text("Name", max_len=128, too_long=api.COMMAND_NAME_TOO_LONG),
        description=params.text(
            "Description", max_len=512, too_long=api.COMMAND_DESCRIPTION_TOO_LONG
        ),
        working_dir=params.text("WorkingDir", max_len=200),
        launcher=params.text("Launcher", max_len=1024, too_long=api.LAUNCHER_TOO_LONG),
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
        raise LimitExceeded(api.TAGS_TOO_MANY, kind=prefix, name=name, limit=MAX_TAGS)
    pairs: dict[str, str] = {}
    for index in sorted(found):
        key, value = found[index].get("Key", ""), found[index].get("Value", "")
        if not key:
            raise InvalidParameter(api.TAG_KEY_MISSING, kind=prefix, name=name, index=index)
        if len(key) > 64 or key.startswith(("aliyun", "acs:")) or "://" in key:
            raise InvalidParameter(api.TAG_KEY_MALFORMED, kind=prefix, name=name, index=index)
        if len(value) > 128 or "http://" in value or "https://" in value:
            raise InvalidParameter(api.TAG_VALUE_MALFORMED, kind=prefix, name=name, index=index)
        if key in pairs:
            raise InvalidParameter(api.TAG_KEY_DUPLICATE, kind=prefix, name=name, key=key)
        pairs[key] = value
    return tuple(pairs.items())


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose keys differ also when case is ignored (placeholder names do)."""
    seen: set[str] = set()
    for key, _value in pairs:
        if key.lower() in seen:
            raise InvalidParameter(api.PARAMETER_NAME_DUPLICATE, name=key)
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
        raise InvalidParameter(api.PARAMETERS_NOT_OBJECT) from None
    if not isinstance(value, dict):
        raise InvalidParameter(api.PARAMETERS_NOT_OBJECT)
    if len(value) > 10:
        raise LimitExceeded(api.PARAMETERS_TOO_MANY, limit=10)
    for key, item in value.items():
        if not _PARAMETER_NAME.fullmatch(key):
            raise (
                LimitExceeded(api.PARAMETER_NAME_TOO_LONG, name=key)
                if len(key) > 64
                else InvalidParameter(api.PARAMETER_NAME_MALFORMED, name=key)
            )
        if not isinstance(item, str):
            raise InvalidParameter(api.PARAMETER_VALUE_NOT_STRING, name=key)
    return dict(value)


def container(params: Params) -> tuple[str, str]:
    """``ContainerId`` and ``ContainerName``, each empty or well formed (API.md 3.7)."""
    container_id = params.text("ContainerId")
    if container_id and not _CONTAINER_ID.fullmatch(container_id):
        raise InvalidParameter(api.CONTAINER_ID_MALFORMED)
    name = params.text("ContainerName")
    if name and not _CONTAINER_NAME.fullmatch(name):
        raise InvalidParameter(api.CONTAINER_NAME_MALFORMED)
    return container_id, name


def rollout_limit(params: Params, name: str, zero_allowed: bool) -> str:
    return rollout_params.rollout_limit(name, params.text(name), zero_allowed)


MAX_BATCH_WAIT_S = 3600


def batch_wait(params: Params) -> int:
    """``BatchWait``: seconds, 0-3600 (only with MaxConcurrency: see rollout_params)."""
    return params.integer("BatchWait", default=0, minimum=0, maximum=MAX_BATCH_WAIT_S)


def delivery_deadline(params: Params, now_ms: int) -> int | None:
    """``DeliveryDeadline`` as ms since the epoch: seconds from now, or a UTC time."""
    text = params.text("DeliveryDeadline", max_len=40)
    return rollout_params.delivery_deadline(text, now_ms)


@dataclass(frozen=True)
class Rollout:
    """The rollout parameters of RunCommand, InvokeCommand and SendFile, checked together."""

    max_concurrency: str
    max_errors: str
    batch_wait: int
    delivery_deadline: int | None


def rollout(params: Params, repeat_mode: RepeatMode, now_ms: int) -> Rollout:
    max_concurrency = rollout_limit(params, "MaxConcurrency", zero_allowed=False)
    max_errors = rollout_limit(params, "MaxErrors", zero_allowed=True)
    wait = batch_wait(params)
    rollout_params.check_rollout(repeat_mode, max_concurrency, max_errors, wait)
    return Rollout(max_concurrency, max_errors, wait, delivery_deadline(params, now_ms))


def task_args(
    params: Params, limits: Limits, access_key_id: str, command_defaults: bool, now_ms: int
) -> TaskArgs:
    """The task part of RunCommand / InvokeCommand (``now_ms``: the injected clock's time). With
    ``command_defaults`` (InvokeCommand), an absent Timeout or WorkingDir means the command's
    own value."""
    instance_ids = params.repeated(
        "InstanceId",
        max_items=limits.max_instances_per_call,
        too_many=api.INSTANCES_TOO_MANY,
    )
    resource_tags = tags(params, "ResourceTag")
    if instance_ids and resource_tags:
        raise InvalidParameter(api.TARGETS_BOTH)
    if not instance_ids and not resource_tags:
        raise InvalidParameter(api.TARGETS_MISSING)
    repeat_mode = params.choice(
        "RepeatMode",
        RepeatMode,
        default=RepeatMode.ONCE,
        not_found=api.REPEAT_MODE_NOT_FOUND,
    )
    assert repeat_mode is not None
    frequency = params.text("Frequency", max_len=256).strip()
    if frequency and repeat_mode is not RepeatMode.DRY_RUN:
        repeat_mode = RepeatMode.PERIOD  # a Frequency makes the task periodic (API.md 2.3)
    elif repeat_mode is RepeatMode.PERIOD:
        raise InvalidParameter(api.FREQUENCY_MISSING)
    termination = params.choice(
        "TerminationMode", TerminationMode, not_found=api.TERMINATION_MODE_NOT_FOUND
    )
    working_dir = params.text("WorkingDir", max_len=200)
    container_id, container_name = container(params)
    limits_of = rollout(params, repeat_mode, now_ms)
    return TaskArgs(
        instance_ids=tuple(dict.fromkeys(instance_ids)),
        access_key_id=access_key_id,
        timeout=timeout(params, limits, None if command_defaults else 60),
        working_dir=working_dir if working_dir or not command_defaults else None,
        username=params.text("Username", max_len=255, too_long=api.USERNAME_TOO_LONG),
        repeat_mode=repeat_mode,
        frequency=frequency,
        parameters=parameters(params),
        termination_mode=termination,
        tags=tags(params),
        container_id=container_id,
        container_name=container_name,
        resource_tags=resource_tags,
        resource_group_id=params.text("ResourceGroupId", max_len=64),
        max_concurrency=limits_of.max_concurrency,
        max_errors=limits_of.max_errors,
        batch_wait=limits_of.batch_wait,
        delivery_deadline=limits_of.delivery_deadline,
    )
