"""DescribeActivations, DisableActivation, DeleteActivation, ModifyManagedInstance,
JoinResourceGroup, DeregisterManagedInstance."""

from __future__ import annotations

import re
from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.server.api import task_params
from openassist.server.api.access import guard_of
from openassist.server.api.envelope import iso, page_query, paging_fields
from openassist.server.api.fleet_actions import managed_fields
from openassist.server.api.registry import Call, action
from openassist.server.store.activations import ActivationFilter
from openassist.server.store.records import Activation

_MANAGED_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{1,127}")


def activation_fields(activation: Activation, with_disabled: bool = True) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ActivationId": activation.id,
        "Description": activation.description,
        "InstanceName": activation.instance_name,
        "InstanceCount": activation.instance_count,
        "RegisteredCount": activation.registered_count,
        "DeregisteredCount": activation.deregistered_count,
        "TimeToLiveInHours": activation.ttl_hours,
        "IpAddressRange": activation.ip_range,
        "CreationTime": iso(activation.created_at),
    }
    if with_disabled:
        fields["Disabled"] = activation.disabled
    return fields


@action("DescribeActivations")
async def describe_activations(call: Call) -> dict[str, Any]:
    p = call.params
    where = ActivationFilter(
        activation_id=p.text("ActivationId") or None,
        instance_name=p.text("InstanceName") or None,
        resource_group_id=p.text("ResourceGroupId") or None,
        tags=task_params.tags(p),
    )
    query = page_query(p)
    page = await call.services.activations.describe(where, query)
    items = []
    for view in page.items:
        tags = [{"TagKey": k, "TagValue": v} for k, v in view.tags]
        group = view.activation.resource_group_id
        items.append({**activation_fields(view.activation), "ResourceGroupId": group, "Tags": tags})
    return {**paging_fields(page, query), "ActivationList": items}


@action("DisableActivation")
async def disable_activation(call: Call) -> dict[str, Any]:
    found = await call.services.activations.disable(call.params.text("ActivationId", required=True))
    return {"Activation": activation_fields(found)}


@action("DeleteActivation")
async def delete_activation(call: Call) -> dict[str, Any]:
    found = await call.services.activations.delete(call.params.text("ActivationId", required=True))
    return {"Activation": activation_fields(found, with_disabled=False)}


@action("ModifyManagedInstance")
async def modify_managed_instance(call: Call) -> dict[str, Any]:
    p = call.params
    instance_id = p.text("InstanceId", required=True)
    name = p.text("InstanceName", required=True)
    if not _MANAGED_NAME.fullmatch(name) or name.startswith(("http://", "https://")):
        raise InvalidParameter(api.MANAGED_NAME_INVALID)
    instance = await call.services.fleet.rename(instance_id, name)
    return {"Instance": {"InstanceId": instance.id, "InstanceName": instance.name}}


@action("JoinResourceGroup")
async def join_resource_group(call: Call) -> dict[str, Any]:
    """Move a managed instance to another resource group (ECS's action, for an instance):
    the group its later tasks with ResourceGroupId must name, and DescribeManagedInstances'
    ResourceGroupId filter, follow it."""
    p = call.params
    group = p.text("ResourceGroupId", required=True, max_len=64)
    instance_id = p.text("ResourceId", required=True)
    resource_type = p.text("ResourceType", required=True)
    if resource_type.lower() != "instance":
        raise InvalidParameter(api.GROUP_RESOURCE_TYPE_UNSUPPORTED, value=resource_type)
    await call.services.fleet.join_group(instance_id, group, guard_of(call))
    return {}


@action("DeregisterManagedInstance", idempotent=True)
async def deregister_managed_instance(call: Call) -> dict[str, Any]:
    instance = await call.services.fleet.deregister(call.params.text("InstanceId", required=True))
    fields = managed_fields(instance, online=False)
    for absent in ("Connected", "Tags"):
        fields.pop(absent)
    return {"Instance": fields}


@action("ReleaseManagedInstance")
async def release_managed_instance(call: Call) -> dict[str, Any]:
    """OpenAssist extension: delete a managed instance from the inventory for good (the
    machine is gone). Unlike DeregisterManagedInstance, its unfinished tasks end with
    InstanceReleased."""
    instance = await call.services.fleet.release(call.params.text("InstanceId", required=True))
    return {"Instance": {"InstanceId": instance.id, "InstanceName": instance.name}}
