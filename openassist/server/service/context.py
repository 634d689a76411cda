"""What every use case needs: the database engine, the bus, the clock and the limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Protocol

from openassist.catalog import api
from openassist.errors import InvalidParameter, NotFound
from openassist.protocol.statuses import InstanceStatus
from openassist.server.bus import Bus
from openassist.server.service.clock import Clock
from openassist.server.settings import ServerSettings
from openassist.server.store.db import Database
from openassist.server.store.records import Instance, RegistrationState

_SETTINGS = ServerSettings  # its class attributes are the settings' defaults


@dataclass(frozen=True)
class Limits:
    """What the services enforce. A limit an operator can set is a setting of the same name
    (documented there, defaulting to it); the others are fixed by the API."""

    heartbeat_online_s: int = _SETTINGS.heartbeat_online_s
    redeliver_after_s: int = _SETTINGS.redeliver_after_s
    delivery_timeout_s: int = _SETTINGS.delivery_timeout_s
    full_output_cap: int = _SETTINGS.full_output_cap
    regions: tuple[str, ...] = _SETTINGS.regions
    agent_networks: tuple[str, ...] = _SETTINGS.agent_networks
    api_rate_per_key: float = _SETTINGS.api_rate_per_key
    api_burst_per_key: float = _SETTINGS.api_burst_per_key
    min_rate_interval_s: int = _SETTINGS.min_rate_interval_s
    min_cron_interval_s: int = _SETTINGS.min_cron_interval_s
    missed_fire_grace_s: int = _SETTINGS.missed_fire_grace_s
    api_max_body_bytes: int = _SETTINGS.api_max_body_bytes
    console_max_body_bytes: int = _SETTINGS.console_max_body_bytes
    agent_register_max_body_bytes: int = _SETTINGS.agent_register_max_body_bytes
    agent_max_body_bytes: int = _SETTINGS.agent_max_body_bytes
    access_cache_s: int = _SETTINGS.access_cache_s
    # Fixed by the API (API.md 3): no setting changes them.
    output_quota: int = 24576  # bytes of output kept per run
    max_instances_per_call: int = 100
    max_content_base64: int = 24 * 1024
    max_timeout_s: int = 86400

    @classmethod
    def of(cls, settings: ServerSettings) -> Limits:
        """The limits the settings give (every field that is also a setting takes its value)."""
        settable = {f.name for f in fields(settings)}
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls) if f.name in settable})


@dataclass(frozen=True)
class ServiceContext:
    db: Database
    bus: Bus
    clock: Clock
    limits: Limits


DEREGISTERED = "deregistered"  # payload on the kick topic: close the agent's channel
# Payload: the id of an instance whose name or registration state changed (every node drops what
# its agent gateway cached of it).
INSTANCE_CHANGED_TOPIC = "instance-changed"


def kick_topic(instance_id: str) -> str:
    """Bus topic that wakes the node holding ``instance_id``'s connection (payload: an invoke
    id to fetch, or ``DEREGISTERED``)."""
    return f"kick:{instance_id}"


def invoke_not_found() -> NotFound:
    return NotFound(api.INVOKE_NOT_FOUND)


def command_not_found(command_id: str) -> NotFound:
    return NotFound(api.COMMAND_NOT_FOUND, command_id=command_id)


def instance_not_found(instance_id: str) -> NotFound:
    return NotFound(api.INSTANCE_NOT_FOUND, instance_id=instance_id)


class _Row(Protocol):
    @property
    def instance_id(self) -> str: ...

    @property
    def status(self) -> InstanceStatus: ...


async def kick_pending(bus: Bus, rows: Iterable[_Row], invoke_id: str) -> None:
    """Wake the agents that have something to fetch for a new task."""
    for row in rows:
        if row.status is InstanceStatus.PENDING:
            await bus.publish(kick_topic(row.instance_id), invoke_id)


def released_kicker(
    bus: Bus, clock: Clock
) -> Callable[[frozenset[tuple[str, str, int]]], Awaitable[None]]:
    """Wakes the agents of rows a rollout released (``Database.on_released``, after commit),
    each when it is due (after BatchWait). A wake lost to a restart costs only latency: the
    agent's next poll takes the row, as the store decides what is due."""
    waiting: set[asyncio.Task[None]] = set()

    async def later(delay_s: float, instance_id: str, invoke_id: str) -> None:
        await asyncio.sleep(delay_s)
        await bus.publish(kick_topic(instance_id), invoke_id)

    async def kick(rows: frozenset[tuple[str, str, int]]) -> None:
        now = clock.now_ms()
        for instance_id, invoke_id, due_at in sorted(rows):
            if due_at <= now:
                await bus.publish(kick_topic(instance_id), invoke_id)
                continue
            task = asyncio.create_task(later((due_at - now) / 1000, instance_id, invoke_id))
            waiting.add(task)  # held, so it is not collected before it runs
            task.add_done_callback(waiting.discard)

    return kick


def require_registered(found: Mapping[str, Instance], instance_ids: Iterable[str]) -> None:
    """``require_all``, and refuse an instance deregistered or deleted from the inventory: it is
    gone as DescribeManagedInstances shows it (tasks it held ended InstanceDeregistered)."""
    require_all(found, instance_ids)
    for instance_id in instance_ids:
        state = found[instance_id].registration_state
        if state is not RegistrationState.REGISTERED:
            raise NotFound(api.INSTANCE_GONE, instance_id=instance_id, state=state)


def require_in_group(
    found: Mapping[str, Instance], instance_ids: Iterable[str], group: str
) -> None:
    """Refuse a target outside the resource group ``group`` ("": no group asked, any target)."""
    for instance_id in instance_ids if group else ():
        actual = found[instance_id].resource_group_id
        if actual != group:
            where = actual or "no resource group"
            raise InvalidParameter(
                api.TARGET_OUTSIDE_GROUP, instance_id=instance_id, group=group, actual=where
            )


def require_all(found: Mapping[str, object], instance_ids: Iterable[str]) -> None:
    """Raise InvalidInstance.NotFound (404) for the first id not in ``found``."""
    for instance_id in instance_ids:
        if instance_id not in found:
            raise NotFound(api.TASK_INSTANCES_NOT_FOUND, instance_id=instance_id)
