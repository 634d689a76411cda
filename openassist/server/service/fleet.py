"""Use cases of the fleet: activations, registration, heartbeats, agent status."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from openassist.catalog import api
from openassist.errors import NotFound
from openassist.server.service import ids
from openassist.server.service.access import address_in
from openassist.server.service.context import (
    DEREGISTERED,
    INSTANCE_CHANGED_TOPIC,
    ServiceContext,
    instance_not_found,
    kick_topic,
    require_all,
    require_registered,
)
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.service.heartbeats import Beat, HeartbeatWriter
from openassist.server.service.registration import (
    Registration,
    RegistrationRefused,
    check_registration,
)
from openassist.server.store import activations, files, fleet, invocations, proposals, tags
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import (
    GONE_STATES,
    Activation,
    AgentState,
    Instance,
    RegistrationState,
)


@dataclass(frozen=True)
class ActivationArgs:
    instance_name: str = ""
    description: str = ""
    instance_count: int = 10
    ttl_hours: int = 4
    ip_range: str = ""
    resource_group_id: str = ""  # the instances it registers carry it


GOODBYES = GONE_STATES


class FleetService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context
        self._heartbeats = HeartbeatWriter(context)

    async def create_activation(
        self, args: ActivationArgs, tag_pairs: tuple[tuple[str, str], ...] = ()
    ) -> tuple[str, str]:
        """Returns (ActivationId, ActivationCode); the code is not stored, only its hash."""
        code = ids.activation_code()
        activation = Activation(
            id=ids.activation_id(),
            code_sha256=_sha256(code),
            instance_name=args.instance_name,
            description=args.description,
            instance_count=args.instance_count,
            registered_count=0,
            deregistered_count=0,
            ttl_hours=args.ttl_hours,
            ip_range=args.ip_range,
            disabled=False,
            created_at=self._ctx.clock.now_ms(),
            resource_group_id=args.resource_group_id,
        )

        def insert(conn: Connection) -> None:
            activations.insert_activation(conn, activation)
            tags.set_tags(conn, "activation", activation.id, tag_pairs, new=True)

        await self._ctx.db.write(insert)
        return activation.id, code

    async def register(self, request: Registration) -> str:
        """Register a host with an activation; returns its ``mi-`` id.

        Raises RegistrationRefused with the reason when a field is malformed or the key weak
        (with its code), the activation is unknown, the code is wrong, it is disabled, expired or
        used up, or the source address is outside its range.
        """
        check_registration(request)  # before anything is looked up or counted
        now = self._ctx.clock.now_ms()
        networks = self._ctx.limits.agent_networks
        if networks and not address_in(request.source_ip, networks):
            raise RegistrationRefused(f"the agent access rules do not admit {request.source_ip}")

        def create(conn: Connection) -> str:
            activation = activations.get_activation(conn, request.activation_id)
            _check_activation(activation, request, now)
            assert activation is not None  # _check_activation refused otherwise
            if not activations.count_registration(conn, activation.id):
                raise RegistrationRefused("the activation has no registrations left")
            instance = Instance(
                id=ids.managed_instance_id(),
                name=request.instance_name or _default_name(activation, request.hostname),
                hostname=request.hostname,
                machine_id=request.machine_id,
                activation_id=activation.id,
                os_type=_os_type(request.os_type),
                os_version=request.os_version,
                agent_version=request.agent_version,
                public_key=request.public_key,
                intranet_ip=request.intranet_ip,
                internet_ip=request.source_ip,
                registered_at=now,
                last_heartbeat_at=None,
                boot_id="",
                registration_state=RegistrationState.REGISTERED,
                last_invoked_at=None,
                invocation_count=0,
                resource_group_id=activation.resource_group_id,
            )
            fleet.insert_instance(conn, instance)
            # The instance carries its activation's tags (ResourceTag targeting finds it by them).
            inherited = tags.tags_of(conn, "activation", [activation.id])[activation.id]
            tags.set_tags(conn, tags.INSTANCE, instance.id, inherited, new=True)
            return instance.id

        return await self._ctx.db.write(create)

    async def instance(self, instance_id: str) -> Instance | None:
        return await self._ctx.db.read(lambda conn: fleet.get_instance(conn, instance_id))

    async def heartbeat(
        self,
        instance_id: str,
        agent_version: str,
        boot_id: str,
        goodbye: str = "",
        upgrading: str = "",
        capabilities: str = "",
        running: int | None = None,
        faults: str = "",
    ) -> None:
        """Record a heartbeat. ``goodbye`` ("stopped" or "shutdown") is our agent's last one:
        its service is stopping, or the operating system is shutting down. ``upgrading`` (the
        version it installs) says it takes no task until its next plain heartbeat."""
        state = AgentState(goodbye) if goodbye in GOODBYES else AgentState.RUNNING
        if upgrading and state is AgentState.RUNNING:
            state = AgentState.UPGRADING
        changes: dict[str, Any] = {"agent_state": state}
        if running is not None:  # our agent's facts; the official agent sends neither
            changes.update(
                running_tasks=running,
                agent_capabilities=capabilities[:512],
                agent_faults=faults[:512],
            )
        if agent_version:
            changes["agent_version"] = agent_version
        if boot_id:
            changes["boot_id"] = boot_id
        # A goodbye is not a sign of life: the last heartbeat time stays that of the last one.
        now = None if state in GOODBYES else self._ctx.clock.now_ms()
        # Written with the heartbeats of other agents (heartbeats.py); a new boot hands out the
        # reboot tasks waiting for it (NextRebootOnly, EveryReboot).
        for invoke_id in await self._heartbeats.record(Beat(instance_id, now, changes, boot_id)):
            await self._ctx.bus.publish(kick_topic(instance_id), invoke_id)

    async def rename(self, instance_id: str, name: str) -> Instance:
        def change(conn: Connection) -> Instance | None:
            fleet.rename_instance(conn, instance_id, name)
            return fleet.get_instance(conn, instance_id)

        instance = await self._ctx.db.write(change)
        if instance is None or instance.registration_state is not RegistrationState.REGISTERED:
            raise instance_not_found(instance_id)
        await self._ctx.bus.publish(INSTANCE_CHANGED_TOPIC, instance_id)
        return instance

    async def join_group(self, instance_id: str, group: str, guard: Guard) -> Instance:
        """JoinResourceGroup: move a registered instance to resource group ``group``. Its tasks
        keep the group they were created with; later ones given ResourceGroupId judge it by
        the new group. Refused (Forbidden) when the caller may not touch the instance."""

        def move(conn: Connection) -> Instance | None:
            instance = fleet.get_instance(conn, instance_id)
            if instance is None or instance.registration_state is not RegistrationState.REGISTERED:
                return None
            guard.check_instances(conn, [instance_id])
            fleet.move_to_group(conn, instance_id, group)
            return fleet.get_instance(conn, instance_id)

        instance = await self._ctx.db.write(move)
        if instance is None:
            raise instance_not_found(instance_id)
        await self._ctx.bus.publish(INSTANCE_CHANGED_TOPIC, instance_id)
        return instance

    async def deregister(self, instance_id: str) -> Instance:
        """Deregister a managed instance: its agent is refused from now on, and every task
        still waiting or running on it ends with InstanceDeregistered."""
        return await self._retire(
            instance_id,
            RegistrationState.DEREGISTERED,
            "InstanceDeregistered",
            f"the managed instance {instance_id} was deregistered.",
        )

    async def release(self, instance_id: str) -> Instance:
        """Delete a managed instance from the inventory (the machine is gone for good): it is
        no longer listed, its agent is refused, and its unfinished tasks end InstanceReleased.
        Past results still name it."""
        return await self._retire(
            instance_id,
            RegistrationState.RELEASED,
            "InstanceReleased",
            f"the managed instance {instance_id} was deleted from the inventory while the task "
            "waited or ran.",
        )

    async def _retire(
        self, instance_id: str, state: RegistrationState, code: str, info: str
    ) -> Instance:
        now = self._ctx.clock.now_ms()

        def change(conn: Connection) -> Instance | None:
            if not fleet.deregister_instance(conn, instance_id, state):
                return None
            instance = fleet.get_instance(conn, instance_id)
            if instance and instance.activation_id:
                activations.count_deregistration(conn, instance.activation_id)
            invocations.end_active_on_instance(conn, instance_id, code, info, now)
            proposals.end_active_rows(conn, files.TABLES, instance_id, code, info, now)
            return instance

        instance = await self._ctx.db.write(change)
        if instance is None:
            raise instance_not_found(instance_id)
        await self._ctx.bus.publish(INSTANCE_CHANGED_TOPIC, instance_id)
        await self._ctx.bus.publish(kick_topic(instance_id), DEREGISTERED)
        return instance

    async def access_allowed(self, instance: Instance, address: str) -> bool:
        """The agent access rules: the server's allowed networks, and the range of the
        activation the instance registered with; both must admit ``address``."""
        allowed = self._ctx.limits.agent_networks
        if allowed and not address_in(address, allowed):
            return False
        if instance.activation_id:
            activation_id = instance.activation_id
            found = await self._ctx.db.read(
                lambda conn: activations.get_activation(conn, activation_id)
            )
            if found and found.ip_range and not address_in(address, found.ip_range.split(",")):
                return False
        return True

    async def active_task_counts(self, instance_ids: list[str]) -> dict[str, int]:
        """Tasks running (or stopping) on each instance now."""
        return await self._ctx.db.read(lambda conn: invocations.count_running(conn, instance_ids))

    async def record_denial(self, instance_id: str) -> None:
        now = self._ctx.clock.now_ms()
        await self._ctx.db.write(
            lambda conn: fleet.record_heartbeat(conn, instance_id, None, {"access_denied_at": now})
        )

    def is_online(self, instance: Instance) -> bool:
        if instance.last_heartbeat_at is None or instance.agent_state in GOODBYES:
            return False
        window = self._ctx.limits.heartbeat_online_s * 1000
        return self._ctx.clock.now_ms() - instance.last_heartbeat_at <= window

    async def check_instances(self, instance_ids: Sequence[str], guard: Guard) -> None:
        """Refuse (Forbidden.RAM) when the caller may not see one of the instances."""
        await self._ctx.db.read(lambda conn: guard.check_instances(conn, instance_ids))

    async def list_instances(
        self, where: fleet.InstanceFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> Page[Instance]:
        """The instances the caller may see (``guard``), filtered and paged."""

        def query(conn: Connection) -> Page[Instance]:
            seen = replace(where, visible=guard.visible(conn))
            return fleet.list_instances(conn, seen, page)

        return await self._ctx.db.read(query)

    async def instance_tags(self, instance_ids: Iterable[str]) -> dict[str, list[tags.Tag]]:
        wanted = list(instance_ids)
        return await self._ctx.db.read(lambda conn: tags.tags_of(conn, tags.INSTANCE, wanted))

    async def instances_tagged(self, pairs: tuple[tags.Tag, ...], limit: int = 1000) -> list[str]:
        return await self._ctx.db.read(lambda conn: fleet.ids_with_tags(conn, pairs, limit))

    async def tag_instances(
        self, instance_ids: tuple[str, ...], pairs: tuple[tags.Tag, ...], remove: bool = False
    ) -> None:
        """Add (or, with ``remove``, take off by key) tags on registered instances; an unknown
        id refuses the whole call."""

        def change(conn: Connection) -> None:
            found = fleet.instances_by_id(conn, instance_ids)
            for instance_id in instance_ids:
                if instance_id not in found:
                    raise NotFound(api.MANAGED_INSTANCE_NOT_FOUND, instance_id=instance_id)
            for instance_id in instance_ids:
                if remove:
                    keys = [key for key, _ in pairs] if pairs else None
                    tags.remove_tags(conn, tags.INSTANCE, instance_id, keys)
                else:
                    tags.add_tags(conn, tags.INSTANCE, instance_id, pairs)

        await self._ctx.db.write(change)

    def online_since(self) -> int:
        return self._ctx.clock.now_ms() - self._ctx.limits.heartbeat_online_s * 1000

    async def require_instances(
        self, instance_ids: tuple[str, ...], registered: bool = False
    ) -> dict[str, Instance]:
        """The instances, refusing an unknown id (and, with ``registered``, one that is gone)."""
        found = await self._ctx.db.read(lambda conn: fleet.instances_by_id(conn, instance_ids))
        (require_registered if registered else require_all)(found, instance_ids)
        return found


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_activation(activation: Activation | None, request: Registration, now: int) -> None:
    if activation is None:
        raise RegistrationRefused("unknown activation id")
    if not hmac.compare_digest(activation.code_sha256, _sha256(request.activation_code)):
        raise RegistrationRefused("wrong activation code")
    if activation.disabled:
        raise RegistrationRefused("the activation is disabled")
    if now > activation.created_at + activation.ttl_hours * 3_600_000:
        raise RegistrationRefused("the activation has expired")
    if activation.ip_range and not address_in(request.source_ip, activation.ip_range.split(",")):
        raise RegistrationRefused(
            f"the source address {request.source_ip} is outside the activation's range"
        )


def _default_name(activation: Activation, hostname: str) -> str:
    if not activation.instance_name:
        return hostname
    width = len(str(activation.instance_count))
    return f"{activation.instance_name}-{activation.registered_count + 1:0{width}d}"


_OS_TYPES = {"linux": "Linux", "windows": "Windows", "freebsd": "FreeBSD"}


def _os_type(reported: str) -> str:
    """The API's spelling (``Linux``) of what agents report (the official one says ``linux``)."""
    return _OS_TYPES.get(reported.lower(), reported or "Linux")
