"""From console forms to the service layer's typed arguments (CommandSpec, TaskArgs,
SendFileArgs). The forms only parse: the services check every limit (``service/checks.py``),
so a bad form gets the API's code and message, shown on the form. What only a form can get
wrong (instances and a tag both chosen, a parameter line without ``=``) has its own entry."""

from __future__ import annotations

import re

from openassist.catalog import api
from openassist.errors import InvalidParameter, LimitExceeded
from openassist.protocol.statuses import CommandType, RepeatMode
from openassist.server.console.web import Form
from openassist.server.service import checks
from openassist.server.service.context import Limits
from openassist.server.service.files import SendFileArgs
from openassist.server.service.guard import Guard
from openassist.server.service.rollout_params import (
    batch_wait,
    check_rollout,
    delivery_deadline,
    rollout_limit,
)
from openassist.server.service.targeting import WAYS, TargetChoice, TargetingService
from openassist.server.service.task_specs import CommandSpec, TaskArgs


def integer(form: Form, name: str, default: int, minimum: int = 0, maximum: int = 0) -> int:
    """A whole number field, read as the API reads one; its range is the service's to check,
    except where only the API checks it (``minimum``/``maximum``: the same codes as the API's)."""
    text = form.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidParameter(api.PARAMETER_NOT_INTEGER, parameter=name, value=text) from None
    if minimum and value < minimum:
        raise InvalidParameter(api.PARAMETER_TOO_SMALL, parameter=name, minimum=minimum)
    if maximum and value > maximum:
        raise InvalidParameter(api.PARAMETER_TOO_LARGE, parameter=name, limit=maximum)
    return value


def parse_tag(text: str) -> tuple[str, str] | None:
    """``key=value`` (or just ``key``: any value)."""
    key, _, value = text.partition("=")
    return (key.strip(), value.strip()) if key.strip() else None


def parse_tags(text: str) -> tuple[tuple[str, str], ...]:
    """``role=web, zone=a``: every one must match."""
    return tuple(t for part in text.split(",") if (t := parse_tag(part)) is not None)


def typed_ids(form: Form) -> tuple[str, ...]:
    """The instance ids ticked or typed (comma or space separated)."""
    typed = [i for text in form.all("instance_ids") for i in re.split(r"[\s,]+", text) if i]
    return tuple(dict.fromkeys([*form.all("instance_id"), *typed]))


def choice_of(form: Form) -> TargetChoice:
    """How the form chooses its machines (``target``: by name, tag, all online, or ids). A
    form without ``target`` (an older page, a script) chooses by what is filled in: a tag or
    ids, not both."""
    ids, tags, pattern = typed_ids(form), parse_tags(form.get("tag")), form.get("pattern")
    how = form.get("target")
    if how not in WAYS:
        if tags and ids:
            raise InvalidParameter(api.FORM_TARGETS_BOTH)
        how = "tag" if tags else "ids"
    given = {"ids": bool(ids), "tag": bool(tags), "name": bool(pattern), "online": True}
    if not given[how]:
        raise InvalidParameter(api.FORM_TARGETS_MISSING)
    return TargetChoice(how, pattern=pattern, tags=tags, ids=ids)


def _at_most(ids: tuple[str, ...], limit: int) -> tuple[str, ...]:
    if len(ids) > limit:
        raise LimitExceeded(
            api.INSTANCES_TOO_MANY, parameter="InstanceId", limit=limit, count=len(ids)
        )
    return ids


async def resolved(
    form: Form, targeting: TargetingService, guard: Guard, limit: int
) -> tuple[str, ...]:
    """The instance ids the form chooses: ids as given (the task checks each, as the API
    does), any other way resolved among the machines the guard lets the user act on."""
    choice = choice_of(form)
    if choice.how == "ids":
        return _at_most(choice.ids, limit)
    return await targeting.resolve(choice, guard, limit)


def command_spec(form: Form) -> CommandSpec:
    text = form.get("type") or CommandType.RUN_SHELL_SCRIPT.value
    try:
        command_type = CommandType(text)
    except ValueError:
        allowed = ", ".join(t.value for t in CommandType)
        raise InvalidParameter(
            api.COMMAND_TYPE_NOT_FOUND, parameter="Type", allowed=allowed, value=text
        ) from None
    return CommandSpec(
        type=command_type,
        content=form.raw("content").encode(),
        timeout=integer(form, "Timeout", 60),
        name=form.get("name"),
        description=form.get("description"),
        working_dir=form.get("working_dir"),
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
            raise InvalidParameter(api.FORM_PARAMETER_LINE_INVALID, line=line)
        values[name.strip()] = value
    return values


def task_args(
    form: Form, actor: str, saved: bool, instance_ids: tuple[str, ...], now_ms: int
) -> TaskArgs:
    """The task part, on ``instance_ids`` (see ``resolved``; ``split_run`` makes one task per
    100 of them); for a saved command (``saved``) empty fields keep the command's values."""
    periodic = form.get("schedule") == "period"
    timeout_given = bool(form.get("Timeout"))
    repeat_mode = RepeatMode.PERIOD if periodic else RepeatMode.ONCE
    # A rollout (README, "Rollouts"), read and checked as the API does.
    max_concurrency = rollout_limit("MaxConcurrency", form.get("max_concurrency"), False)
    max_errors = rollout_limit("MaxErrors", form.get("max_errors"), True)
    wait = batch_wait(form.get("batch_wait"))
    check_rollout(repeat_mode, max_concurrency, max_errors, wait)
    return TaskArgs(
        instance_ids=instance_ids,
        access_key_id=actor,
        timeout=integer(form, "Timeout", 60) if timeout_given or not saved else None,
        working_dir=form.get("working_dir") or (None if saved else ""),
        username=form.get("username"),
        repeat_mode=repeat_mode,
        frequency=form.get("frequency") if periodic else "",
        parameters=parameters(form),
        max_concurrency=max_concurrency,
        max_errors=max_errors,
        batch_wait=wait,
        delivery_deadline=delivery_deadline(form.get("delivery_deadline"), now_ms),
    )


def send_file_args(
    form: Form, limits: Limits, actor: str, instance_ids: tuple[str, ...]
) -> SendFileArgs:
    return SendFileArgs(
        instance_ids=instance_ids,
        name=form.get("name"),
        target_dir=form.get("target_dir"),
        content=form.raw("content").encode(),
        content_type="PlainText",
        file_mode=form.get("mode") or "0644",
        owner=form.get("owner") or "root",
        group=form.get("group") or "root",
        overwrite=form.checked("overwrite"),
        timeout=max(10, checks.timeout(integer(form, "Timeout", 60), limits)),
        description=form.get("description"),
        access_key_id=actor,
    )
