"""What every use case needs: the database engine, the bus, the clock and the limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from openassist.catalog import api
from openassist.errors import NotFound
from openassist.protocol.statuses import InstanceStatus
from openassist.server.bus import Bus
from openassist.server.service.clock import Clock
from openassist.server.store.db import Database
from openassist.server.store.records import Instance, RegistrationState


@dataclass(frozen=True)
class Limits:
    heartbeat_online_s: int = 120  # CloudAssistantStatus is "true" within this window
    redeliver_after_s: int = 30  # a delivered task not confirmed by a report is handed out again
    delivery_timeout_s: int = 60  # a task not started this long after creation is not handed out
    output_quota: int = 24576  # bytes of output kept per run
    full_output_cap: int = 16 * 1024 * 1024  # full output kept per run (0: tail only)
    max_instances_per_call: int = 100
    max_content_base64: int = 24 * 1024
    max_timeout_s: int = 86400
    regions: tuple[str, ...] = ("local",)
    agent_networks: tuple[str, ...] = ()  # networks agents may connect from; empty: any
    api_rate_per_key: float = 200.0  # requests per second per access key; 0 disables
    api_burst_per_key: float = 400.0
    min_rate_interval_s: int = 60  # rate(...) at least this long (API.md 4.1)
    min_cron_interval_s: int = 10  # cron runs at least this far apart (API.md 4.3)
    # Request bodies, per endpoint (the settings of the same names document them).
    api_max_body_bytes: int = 1024 * 1024
    console_max_body_bytes: int = 256 * 1024
    agent_register_max_body_bytes: int = 64 * 1024
    agent_max_body_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class ServiceContext:
    db: Database
    bus: Bus
    clock: Clock
    limits: Limits


DEREGISTERED = "deregistered"  # payload on the kick topic: close the agent's channel


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


def require_registered(found: Mapping[str, Instance], instance_ids: Iterable[str]) -> None:
    """``require_all``, and refuse an instance deregistered or deleted from the inventory: it is
    gone as DescribeManagedInstances shows it (tasks it held ended InstanceDeregistered)."""
    require_all(found, instance_ids)
    for instance_id in instance_ids:
        state = found[instance_id].registration_state
        if state is not RegistrationState.REGISTERED:
            raise NotFound(api.INSTANCE_GONE, instance_id=instance_id, state=state)


def require_all(found: Mapping[str, object], instance_ids: Iterable[str]) -> None:
    """Raise InvalidInstance.NotFound (404) for the first id not in ``found``."""
    for instance_id in instance_ids:
        if instance_id not in found:
            raise NotFound(api.TASK_INSTANCES_NOT_FOUND, instance_id=instance_id)
