"""The audit trail: who did what, when, from where, with what result.

An event is written in the same transaction as the change it records: the endpoint arms it
before the handler runs (``arm``) and it rides the handler's first write (``store.db``). A call
that wrote nothing leaves its event armed; the endpoint then writes it alone when it must be
kept anyway: a refusal, a failed change, a secret read.

Request parameters are kept redacted by rule: signing fields dropped, command and file
content replaced by its SHA-256, secret values and placeholder values replaced by ``***``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace

from sqlalchemy import Connection

from openassist.server.service.context import ServiceContext
from openassist.server.store import audit as store
from openassist.server.store.audit import AuditRecord, EventFilter
from openassist.server.store.db import Rider, disarm_riders, ride_next_write
from openassist.server.store.paging import Page

DAY_MS = 86_400_000
PURGE_INTERVAL_S = 3600
log = logging.getLogger(__name__)
_DROPPED = frozenset(
    {
        "AccessKeyId",
        "Action",
        "Format",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "SignatureType",
        "Timestamp",
        "Version",
    }
)
_HASHED = frozenset({"CommandContent", "Content"})  # what the task ran or wrote: its hash only
_SECRET_VALUE_ACTIONS = frozenset({"CreateSecretParameter"})
# Parameters naming the resources an event is about (repeated ones as Name.N).
_RESOURCE_PARAMETERS = (
    "InstanceId",
    "InvokeId",
    "CommandId",
    "UserName",
    "PolicyName",
    "UserAccessKeyId",
    "Name",
    "ActivationId",
    "RunId",  # a console run of several tasks (the console's own id)
)


REFUSAL_CODES = frozenset({"Forbidden.RAM", "NoPermission"})
_READ_PREFIXES = ("Describe", "List", "Get", "Lookup")


def changes(action: str) -> bool:
    """Whether the action changes something (its failures are kept too)."""
    return not action.startswith(_READ_PREFIXES)


def secret_read(action: str, params: Mapping[str, str]) -> bool:
    """A read that hands out a secret value (kept although it changes nothing)."""
    return action == "GetSecretParameter" and params.get("WithDecryption", "").lower() == "true"


def _is_secret(action: str, name: str) -> bool:
    """Secret parameter values, placeholder values (they may carry secrets), passwords."""
    if name == "Value":
        return action in _SECRET_VALUE_ACTIONS
    return name == "Parameters" or "Password" in name


def redacted(action: str, params: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in params.items():
        if name in _DROPPED:
            continue
        if name in _HASHED:
            value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()
        elif _is_secret(action, name):
            value = "***"
        kept[name] = value
    return kept


def resource_names(params: Mapping[str, str]) -> str:
    """The ids and names the call is about, comma-separated, in parameter order."""
    found: list[str] = []
    for name, value in params.items():
        base = name.split(".", 1)[0]
        if (
            base in _RESOURCE_PARAMETERS
            and value
            and (name == base or name[len(base) + 1 :].isdigit())
        ):
            found.append(value)
    return ",".join(dict.fromkeys(found))


def new_event(
    *,
    now: int,
    action: str,
    source: str,
    user_name: str,
    access_key_id: str,
    source_ip: str,
    user_agent: str,
    request_id: str,
    params: Mapping[str, str],
    event_type: str = "ApiCall",
) -> AuditRecord:
    return AuditRecord(
        event_id=str(uuid.uuid4()),
        event_time=now,
        event_name=action,
        event_source=source,
        event_type=event_type,
        user_name=user_name,
        access_key_id=access_key_id,
        source_ip=source_ip,
        user_agent=user_agent[:256],
        request_id=request_id,
        resource_name=resource_names(params),
        error_code="",
        error_message="",
        request_parameters=json.dumps(redacted(action, params), ensure_ascii=False),
    )


def failed(event: AuditRecord, code: str, message: str) -> AuditRecord:
    return replace(event, error_code=code, error_message=message[:2000])


class Armed:
    """An event waiting to ride the call's first write."""

    def __init__(self, event: AuditRecord) -> None:
        self.event = event
        self._riders: list[Rider] = ride_next_write(self._insert)

    def _insert(self, conn: Connection) -> None:
        store.insert_event(conn, self.event)

    @property
    def written(self) -> bool:
        return not self._riders

    def disarm(self) -> None:
        """No later write of this task carries the event (``written`` still tells whether one
        did)."""
        disarm_riders()


class AuditTrail:
    def __init__(self, context: ServiceContext, retention_days: int) -> None:
        self._ctx = context
        self.retention_days = retention_days

    def now_ms(self) -> int:
        return self._ctx.clock.now_ms()

    def arm(self, event: AuditRecord) -> Armed:
        return Armed(event)

    async def record(self, event: AuditRecord) -> None:
        """Write an event that no change carries (a refusal, a read, a sign-in)."""
        await self._ctx.db.write(lambda conn: store.insert_event(conn, event))

    async def record_failure(self, event: AuditRecord) -> None:
        """A refused or failed call: one event with its error code, whether or not a write of
        the call committed the event before the failure."""
        await self._ctx.db.write(lambda conn: store.record_failure(conn, event))

    async def lookup(
        self, where: EventFilter, limit: int, before_seq: int | None
    ) -> Page[AuditRecord]:
        return await self._ctx.db.read(lambda conn: store.lookup(conn, where, limit, before_seq))

    async def keep_retention(self) -> None:
        """Apply the retention at start and every hour (a failure is logged, then retried)."""
        while True:
            try:
                purged = await self.purge()
                if purged:
                    log.info("dropped %d audit event(s) older than the retention", purged)
            except Exception:
                log.exception("applying the audit retention failed")
            await asyncio.sleep(PURGE_INTERVAL_S)

    async def purge(self) -> int:
        """Drop events older than the retention (0: keep every event); returns how many."""
        if self.retention_days <= 0:
            return 0
        horizon = self._ctx.clock.now_ms() - self.retention_days * DAY_MS
        return await self._ctx.db.write(lambda conn: store.purge_before(conn, horizon))
