"""ModifyInvocationAttribute (API.md 5.10): its parameters and their own error codes."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from openassist.errors import ApiError
from openassist.server import json_input
from openassist.server.api.params import Params
from openassist.server.api.registry import Call, action
from openassist.server.service.modify import MAX_INSTANCES, Modification

_KEY = re.compile(r"[A-Za-z0-9_-]+")
MAX_PARAMETERS, MAX_KEY = 10, 64


def _content(params: Params, max_base64: int) -> bytes | None:
    text = params.text("CommandContent")
    if not text:
        return None
    if params.text("ContentEncoding", default="PlainText").lower() == "base64":
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                "InvalidCommandContent.DecodeError", "CommandContent is not valid Base64."
            ) from None
    else:
        raw = text.encode("utf-8")
    if len(base64.b64encode(raw)) > max_base64:
        raise ApiError(
            "InvalidCommandContent.LengthLimitExceeded",
            f"CommandContent is longer than {max_base64} bytes after Base64 encoding.",
            403,
        )
    return raw


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise ApiError("InvalidParameters.KeyDuplicate", f"The key {duplicated[0]!r} repeats.")
    return dict(pairs)


def _parameters(params: Params) -> dict[str, str] | None:
    text = params.text("Parameters")
    if not text:
        return None
    try:
        value = json_input.loads(text, object_pairs_hook=_pairs)
    except ValueError:
        raise ApiError(
            "InvalidParameters.KeyMalformed", "Parameters must be a JSON object."
        ) from None
    if not isinstance(value, dict):
        raise ApiError("InvalidParameters.KeyMalformed", "Parameters must be a JSON object.")
    if len(value) > MAX_PARAMETERS:
        raise ApiError(
            "InvalidParameters.CountLimitExceeded",
            f"At most {MAX_PARAMETERS} parameters may be given.",
            403,
        )
    for key, item in value.items():
        if not key:
            raise ApiError("InvalidParameters.KeyEmpty", "A parameter name is empty.")
        if len(key) > MAX_KEY:
            raise ApiError(
                "InvalidParameters.KeyLengthLimitExceeded",
                f"Parameter names are at most {MAX_KEY} characters.",
                403,
            )
        if not _KEY.fullmatch(key):
            raise ApiError(
                "InvalidParameters.KeyMalformed",
                f"Parameter name {key!r} must be made of A-Z a-z 0-9 _ -.",
            )
        if not isinstance(item, str):
            raise ApiError(
                "InvalidParameters.ValueTypeUnsupported",
                f"The value of parameter {key!r} must be a string.",
                403,
            )
    return dict(value)


@action("ModifyInvocationAttribute", idempotent=True)
async def modify_invocation_attribute(call: Call) -> dict[str, Any]:
    p = call.params
    change = Modification(
        invoke_id=p.text("InvokeId", required=True),
        content=_content(p, call.services.limits.max_content_base64),
        enable_parameter=p.boolean("EnableParameter") if p.text("EnableParameter") else None,
        parameters=_parameters(p),
        frequency=p.text("Frequency", max_len=256).strip(),
        add_instances=tuple(
            p.repeated(
                "InstanceId",
                max_items=MAX_INSTANCES,
                too_many_code="InvalidInstanceId.CountLimitExceeded",
            )
        ),
    )
    command_id = await call.services.invocations.modify(change)
    return {"CommandId": command_id}
