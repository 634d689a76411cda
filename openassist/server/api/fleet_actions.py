"""CreateActivation, DescribeCloudAssistantStatus, DescribeManagedInstances."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.server.api import task_params
from openassist.server.api.access import guard_of
from openassist.server.api.envelope import iso, page_query, paging_fields
from openassist.server.api.registry import Call, action
from openassist.server.service.fleet import ActivationArgs
from openassist.server.store.fleet import InstanceFilter
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import Instance

_INSTANCE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{1,49}")


def _ip_range(text: str) -> str:
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise InvalidParameter(api.IP_RANGE_INVALID, value=item) from None
    return text


@action("CreateActivation", idempotent=True)
async def create_activation(call: Call) -> dict[str, Any]:
    p = call.params
    name = p.text("InstanceName")
    if name and (not _INSTANCE_NAME.fullmatch(name) or name.startswith(("http://", "https://"))):
        raise InvalidParameter(api.ACTIVATION_NAME_INVALID)
    args = ActivationArgs(
        instance_name=name,
        description=p.text("Description", max_len=100),
        instance_count=p.integer("InstanceCount", default=10, minimum=1, maximum=1000),
        ttl_hours=p.integer("TimeToLiveInHours", default=4, minimum=1, maximum=24),
        ip_range=_ip_range(p.text("IpAddressRange", max_len=64)),
        resource_group_id=p.text("ResourceGroupId", max_len=64),
    )
    activation_id, code = await call.services.fleet.create_activation(args, task_params.tags(p))
    return {"ActivationId": activation_id, "ActivationCode": code}


def _requested_ids(call: Call, limit: int) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            call.params.repeated("InstanceId", max_items=limit, too_many=api.INSTANCES_TOO_MANY)
        )
    )


@action("DescribeCloudAssistantStatus")
async def describe_cloud_assistant_status(call: Call) -> dict[str, Any]:
    p, fleet = call.params, call.services.fleet
    ids = _requested_ids(call, 100)
    if ids:
        found = await fleet.require_instances(ids, registered=True)  # gone: refused
        await fleet.check_instances(ids, guard_of(call))
        query = PageQuery(limit=len(ids))
        page = Page(items=[found[i] for i in ids], total=len(ids), next_key=None)
    else:
        query = page_query(p)
        where = InstanceFilter(os_type=p.text("OSType") or None)
        page = await fleet.list_instances(where, query, guard_of(call))
    active = await fleet.active_task_counts([i.id for i in page.items])
    items = []
    for instance in page.items:
        online = fleet.is_online(instance)
        items.append(
            {
                "InstanceId": instance.id,
                "CloudAssistantStatus": "true" if online else "false",
                "CloudAssistantVersion": instance.agent_version if online else "",
                "LastHeartbeatTime": iso(instance.last_heartbeat_at),
                "OSType": instance.os_type,
                "ActiveTaskCount": active.get(instance.id, 0),
                "InvocationCount": instance.invocation_count,
                "LastInvokedTime": iso(instance.last_invoked_at),
                "SupportSessionManager": False,
            }
        )
    return {
        **paging_fields(page, query),
        "InstanceCloudAssistantStatusSet": {"InstanceCloudAssistantStatus": items},
    }


def managed_fields(
    instance: Instance, online: bool, tags: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    return {
        "InstanceId": instance.id,
        "InstanceName": instance.name,
        "Hostname": instance.hostname,
        "MachineId": instance.machine_id,
        "ActivationId": instance.activation_id or "",
        "AgentVersion": instance.agent_version,
        "Connected": online,
        "OsType": instance.os_type,
        "OsVersion": instance.os_version,
        "IntranetIp": instance.intranet_ip,
        "InternetIp": instance.internet_ip,
        "RegistrationTime": iso(instance.registered_at),
        "LastInvokedTime": iso(instance.last_invoked_at),
        "InvocationCount": instance.invocation_count,
        "ResourceGroupId": instance.resource_group_id,
        "Tags": [{"TagKey": k, "TagValue": v} for k, v in tags],
    }


@action("DescribeManagedInstances")
async def describe_managed_instances(call: Call) -> dict[str, Any]:
    p, fleet = call.params, call.services.fleet
    connected = p.text("Connected").lower()
    if connected not in ("", "true", "false"):
        raise InvalidParameter(api.CONNECTED_INVALID)
    since = fleet.online_since()
    where = InstanceFilter(
        ids=_requested_ids(call, 50),
        name=p.text("InstanceName") or None,
        activation_id=p.text("ActivationId") or None,
        resource_group_id=p.text("ResourceGroupId") or None,
        os_type=p.text("OsType") or None,
        connected_since=since if connected == "true" else None,
        disconnected_before=since if connected == "false" else None,
        tags=task_params.tags(p),
    )
    query = page_query(p)
    page = await fleet.list_instances(where, query, guard_of(call))
    tags = await fleet.instance_tags(i.id for i in page.items)
    return {
        **paging_fields(page, query),
        "Instances": [managed_fields(i, fleet.is_online(i), tags[i.id]) for i in page.items],
    }
