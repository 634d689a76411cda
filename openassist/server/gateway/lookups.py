"""What the gateway looks up for every signed agent call, cached: the instance behind the request
and whether the agent access rules admit its address.

An idle agent calls about once a minute (its heartbeat), so a cache of a few seconds missed on
nearly every call: two reads in the store per heartbeat, at 10,000 agents 330 a second
(issue 20). What is cached changes rarely, and every change is told on the bus:

- an instance's key and machine id never change (a new registration is a new instance); its
  name and registration state change by RenameInstance, DeregisterManagedInstance and
  DeleteInstance, which publish ``INSTANCE_CHANGED_TOPIC``: every node drops what it cached of
  that instance at once;
- an address admitted stays admitted: the allowed networks are settings and an activation's
  range is fixed when it is created. A refusal is kept only briefly, so that a refused agent is
  recorded again (``record_denial``) and tasks for it say SecurityGroupRuleDenied.

Bus messages are hints: a node that missed one (its listening connection was down) acts on what
it cached for at most ``INSTANCE_CACHE_TTL_S``, and drops everything when that connection comes
back (the bus then delivers an empty payload).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from openassist.server.bus import Bus
from openassist.server.service.context import INSTANCE_CHANGED_TOPIC
from openassist.server.service.fleet import FleetService
from openassist.server.store.records import Instance

log = logging.getLogger(__name__)

INSTANCE_CACHE_TTL_S = 300.0  # the correctness window when a bus message is lost
DENIAL_CACHE_TTL_S = 5.0  # a refusal is recorded again this often while the agent calls
INSTANCE_CACHE_SIZE = 100_000


class AgentLookups:
    def __init__(
        self, fleet: FleetService, bus: Bus, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._fleet, self._clock = fleet, clock
        self._instances: dict[str, tuple[float, Instance]] = {}
        self._access: dict[tuple[str, str], tuple[float, bool]] = {}
        # Bumped by every drop: a look-up that was under way meanwhile may have read the row
        # before the change committed, so its answer is used but not cached.
        self._generation = 0
        self.unsubscribe: Callable[[], None] = bus.subscribe(INSTANCE_CHANGED_TOPIC, self._changed)

    async def _changed(self, _topic: str, instance_id: str) -> None:
        self.forget(instance_id or None)

    def forget(self, instance_id: str | None = None) -> None:
        """Drop what is cached of ``instance_id`` (None: of every instance)."""
        self._generation += 1
        if instance_id is None:
            self._instances.clear()
            self._access.clear()
            return
        self._instances.pop(instance_id, None)
        for key in [key for key in self._access if key[0] == instance_id]:
            del self._access[key]

    async def instance(self, instance_id: str) -> Instance | None:
        """The instance behind a request (None: no such instance)."""
        now = self._clock()
        cached = self._instances.get(instance_id)
        if cached is not None and now - cached[0] < INSTANCE_CACHE_TTL_S:
            return cached[1]
        generation = self._generation
        instance = await self._fleet.instance(instance_id)
        if instance is not None and generation == self._generation:
            if len(self._instances) >= INSTANCE_CACHE_SIZE:
                self._instances.clear()
            self._instances[instance_id] = (now, instance)
        return instance

    async def access_allowed(self, instance: Instance, address: str) -> bool:
        """The agent access rules for a call from ``address``; a refusal is recorded once per
        ``DENIAL_CACHE_TTL_S``, so that tasks for the instance say SecurityGroupRuleDenied."""
        now = self._clock()
        key = (instance.id, address)
        cached = self._access.get(key)
        if cached is not None:
            ttl = INSTANCE_CACHE_TTL_S if cached[1] else DENIAL_CACHE_TTL_S
            if now - cached[0] < ttl:
                return cached[1]
        generation = self._generation
        allowed = await self._fleet.access_allowed(instance, address)
        if not allowed:
            await self._fleet.record_denial(instance.id)
            log.warning("agent %s refused by the access rules (from %s)", instance.id, address)
        if generation == self._generation:
            if len(self._access) >= INSTANCE_CACHE_SIZE:
                self._access.clear()
            self._access[key] = (now, allowed)
        return allowed
