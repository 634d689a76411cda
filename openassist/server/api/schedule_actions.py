"""ModifyInvocationAttribute (API.md 5.10): its parameters and their own error codes."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter, LimitExceeded
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
            raise InvalidParameter(api.OOS_CONTENT_NOT_BASE64) from None
    else:
        raw = text.encode("utf-8")
    if len(base64.b64encode(raw)) > max_base64:
        raise LimitExceeded(api.OOS_CONTENT_TOO_LARGE, limit=max_base64)
    return raw


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise InvalidParameter(api.OOS_PARAMETER_DUPLICATE, name=duplicated[0])
    return dict(pairs)


def _parameters(params: Params) -> dict[str, str] | None:
    text = params.text("Parameters")
    if not text:
        return None
    try:
        value = json_input.loads(text, object_pairs_hook=_pairs)
    except ValueError:
        raise InvalidParameter(api.OOS_PARAMETERS_NOT_OBJECT) from None
    if not isinstance(value, dict):
        raise InvalidParameter(api.OOS_PARAMETERS_NOT_OBJECT)
    if len(value) > MAX_PARAMETERS:
        raise LimitExceeded(api.OOS_PARAMETERS_TOO_MANY, limit=MAX_PARAMETERS)
    for key, item in value.items():
        if not key:
            raise InvalidParameter(api.OOS_PARAMETER_NAME_EMPTY)
        if len(key) > MAX_KEY:
            raise LimitExceeded(api.OOS_PARAMETER_NAME_TOO_LONG, limit=MAX_KEY)
        if not _KEY.fullmatch(key):
            raise InvalidParameter(api.OOS_PARAMETER_NAME_MALFORMED, name=key)
        if not isinstance(item, str):
            raise InvalidParameter(api.OOS_PARAMETER_VALUE_NOT_STRING, name=key)
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
                too_many=api.MODIFY_TARGETS_TOO_MANY,
            )
        ),
    )
    command_id = await call.services.invocations.modify(change)
    return {"CommandId": command_id}
