"""The OOS parameter store actions (API.md 7): CreateParameter, GetParameter, DeleteParameter,
CreateSecretParameter, GetSecretParameter, DeleteSecretParameter."""

from __future__ import annotations

import json
from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.server import json_input
from openassist.server.api.access import guard_of
from openassist.server.api.envelope import iso
from openassist.server.api.params import Params
from openassist.server.api.registry import Call, action
from openassist.server.service.parameter_store import (
    PLAIN_TYPES,
    SECRET,
    NewParameter,
)
from openassist.server.store.records import Parameter


def _tags(params: Params) -> dict[str, str]:
    raw = params.text("Tags")
    if not raw:
        return {}
    try:
        tags = json_input.loads(raw)
    except ValueError:
        tags = None
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise InvalidParameter(api.STORE_TAGS_INVALID)
    return tags


def _named(call: Call, secret: bool, max_len: int | None = None) -> str:
    """The Name parameter, checked against the caller's policies (``parameter/NAME`` or
    ``secretparameter/NAME``)."""
    name = call.params.text("Name", required=True, max_len=max_len)
    guard = guard_of(call)
    guard.check([guard.secret(name) if secret else guard.parameter(name)])
    return name


def _new(call: Call, type_: str) -> NewParameter:
    params = call.params
    return NewParameter(
        name=_named(call, type_ == SECRET),
        type=type_,
        value=params.text("Value", required=True),
        description=params.text("Description", max_len=200),
        constraints=params.text("Constraints"),
        tags=_tags(params),
        resource_group_id=params.text("ResourceGroupId"),
    )


def _type(params: Params, allowed: tuple[str, ...], default: str = "") -> str:
    value = params.text("Type", required=not default, default=default)
    if value not in allowed:
        raise InvalidParameter(api.STORE_TYPE_INVALID, allowed=" or ".join(allowed), value=value)
    return value


def _version(params: Params) -> int | None:
    if not params.text("ParameterVersion"):
        return None
    return params.integer("ParameterVersion", default=0, minimum=1, maximum=100)


def parameter_fields(parameter: Parameter, key_id: str = "") -> dict[str, Any]:
    created = iso(parameter.created_at)
    fields: dict[str, Any] = {
        "Id": parameter.id,
        "Name": parameter.name,
        "Type": parameter.type,
        "Description": parameter.description,
        "Constraints": parameter.constraints,
        "ParameterVersion": parameter.version,
        "ShareType": "Private",
        "CreatedBy": parameter.created_by,
        "CreatedDate": created,
        "UpdatedBy": parameter.created_by,
        "UpdatedDate": created,
        "Tags": json.loads(parameter.tags or "{}"),
        "ResourceGroupId": parameter.resource_group_id,
    }
    if parameter.type == SECRET:
        fields.update(KeyId=parameter.key_id or key_id, DKMSInstanceId="")
    return fields


@action("CreateParameter", idempotent=True)
async def create_parameter(call: Call) -> dict[str, Any]:
    new = _new(call, _type(call.params, PLAIN_TYPES))
    created = await call.services.parameter_store.create(new, call.access_key_id)
    return {"Parameter": parameter_fields(created)}


@action("CreateSecretParameter", idempotent=True)
async def create_secret_parameter(call: Call) -> dict[str, Any]:
    store = call.services.parameter_store
    new = _new(call, _type(call.params, (SECRET,), default=SECRET))
    created = await store.create(new, call.access_key_id)
    return {"Parameter": parameter_fields(created, store.key_id)}


@action("GetParameter")
async def get_parameter(call: Call) -> dict[str, Any]:
    p = call.params
    store = call.services.parameter_store
    found = await store.get(_named(call, False, 200), secret=False, version=_version(p))
    return {"Parameter": {**parameter_fields(found), "Value": found.value}}


@action("GetSecretParameter")
async def get_secret_parameter(call: Call) -> dict[str, Any]:
    p = call.params
    store = call.services.parameter_store
    found = await store.get(_named(call, True, 180), secret=True, version=_version(p))
    # Without WithDecryption=true the value stays hidden, as in OOS.
    value = store.reveal(found) if p.boolean("WithDecryption") else None
    return {"Parameter": {**parameter_fields(found, store.key_id), "Value": value}}


@action("DeleteParameter")
async def delete_parameter(call: Call) -> dict[str, Any]:
    await call.services.parameter_store.delete(_named(call, False), secret=False)
    return {}


@action("DeleteSecretParameter")
async def delete_secret_parameter(call: Call) -> dict[str, Any]:
    await call.services.parameter_store.delete(_named(call, True), secret=True)
    return {}
