"""TagResources, UntagResources and ListTagResources for managed instances (ResourceType
``managedinstance``): the tags that ResourceTag.N targets. Commands, invocations and activations
take their tags at creation (Tag.N)."""

from __future__ import annotations

from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.server.api import task_params
from openassist.server.api.params import Params
from openassist.server.api.registry import Call, action

RESOURCE_TYPE = "managedinstance"
MAX_RESOURCES = 50


def _resource_ids(params: Params) -> tuple[str, ...]:
    resource_type = params.text("ResourceType", required=True)
    if resource_type.lower() != RESOURCE_TYPE:
        raise InvalidParameter(
            api.RESOURCE_TYPE_UNSUPPORTED, resource_type=RESOURCE_TYPE, value=resource_type
        )
    ids = params.repeated("ResourceId", max_items=MAX_RESOURCES, too_many=api.RESOURCES_TOO_MANY)
    return tuple(dict.fromkeys(ids))


@action("TagResources")
async def tag_resources(call: Call) -> dict[str, Any]:
    ids = _resource_ids(call.params)
    if not ids:
        raise InvalidParameter(api.RESOURCE_IDS_MISSING)
    pairs = task_params.tags(call.params)
    if not pairs:
        raise InvalidParameter(api.TAGS_TO_SET_MISSING)
    await call.services.fleet.tag_instances(ids, pairs)
    return {}


@action("UntagResources")
async def untag_resources(call: Call) -> dict[str, Any]:
    p = call.params
    ids = _resource_ids(p)
    if not ids:
        raise InvalidParameter(api.RESOURCE_IDS_MISSING)
    keys = p.repeated("TagKey", max_items=20, too_many=api.TAG_KEYS_TOO_MANY)
    remove_all = p.boolean("All")
    if not keys and not remove_all:
        raise InvalidParameter(api.TAG_KEYS_MISSING)
    pairs = () if remove_all and not keys else tuple((key, "") for key in keys)
    await call.services.fleet.tag_instances(ids, pairs, remove=True)
    return {}


@action("ListTagResources")
async def list_tag_resources(call: Call) -> dict[str, Any]:
    p = call.params
    ids = _resource_ids(p)
    fleet = call.services.fleet
    if not ids:
        pairs = task_params.tags(p)
        if not pairs:
            raise InvalidParameter(api.RESOURCES_UNCHOSEN)
        ids = tuple(await fleet.instances_tagged(pairs))
    else:
        await fleet.require_instances(ids)
    tags = await fleet.instance_tags(ids)
    items = [
        {"ResourceId": i, "ResourceType": RESOURCE_TYPE, "TagKey": k, "TagValue": v}
        for i in ids
        for k, v in tags.get(i, [])
    ]
    return {"NextToken": "", "TagResources": {"TagResource": items}}
