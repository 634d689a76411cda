"""TagResources, UntagResources and ListTagResources for managed instances (ResourceType
``managedinstance``): the tags that ResourceTag.N targets. Commands, invocations and activations
take their tags at creation (Tag.N)."""

from __future__ import annotations

from typing import Any

from openassist.errors import ApiError
from openassist.server.api import task_params
from openassist.server.api.params import Params
from openassist.server.api.registry import Call, action

RESOURCE_TYPE = "managedinstance"
MAX_RESOURCES = 50


def _resource_ids(params: Params) -> tuple[str, ...]:
    resource_type = params.text("ResourceType", required=True)
    if resource_type.lower() != RESOURCE_TYPE:
        raise ApiError(
            "InvalidResourceType.NotSupported",
            f"ResourceType must be {RESOURCE_TYPE}; commands, invocations and activations are "
            f"tagged with Tag.N when they are created. Got {resource_type!r}.",
        )
    ids = params.repeated(
        "ResourceId", max_items=MAX_RESOURCES, too_many_code="InvalidResourceId.ExceedLimit"
    )
    return tuple(dict.fromkeys(ids))


@action("TagResources")
async def tag_resources(call: Call) -> dict[str, Any]:
    ids = _resource_ids(call.params)
    if not ids:
        raise ApiError("MissingParameter.ResourceId", "Give at least one ResourceId.N.")
    pairs = task_params.tags(call.params)
    if not pairs:
        raise ApiError("MissingParameter.Tag", "Give at least one Tag.N.Key to set.")
    await call.services.fleet.tag_instances(ids, pairs)
    return {}


@action("UntagResources")
async def untag_resources(call: Call) -> dict[str, Any]:
    p = call.params
    ids = _resource_ids(p)
    if not ids:
        raise ApiError("MissingParameter.ResourceId", "Give at least one ResourceId.N.")
    keys = p.repeated("TagKey", max_items=20, too_many_code="NumberExceed.Tags")
    remove_all = p.boolean("All")
    if not keys and not remove_all:
        raise ApiError("MissingParameter.TagKey", "Give TagKey.N, or All=true to remove every tag.")
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
            raise ApiError("MissingParameter.ResourceId", "Give ResourceId.N or Tag.N.")
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
