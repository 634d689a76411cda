"""Custom and system policies, their versions, and their attachments to users (RAM API)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openassist.catalog import api
from openassist.errors import Conflict, InvalidParameter, LimitExceeded, NotFound
from openassist.server.policy import PolicyDocumentError, parse_policy
from openassist.server.service import ram_errors
from openassist.server.service.ram_base import RamService
from openassist.server.service.system_policies import (
    CUSTOM,
    SYSTEM,
    SYSTEM_CREATED_MS,
    SYSTEM_POLICIES,
)
from openassist.server.store import identities as store
from openassist.server.store.records import Attachment, PolicyVersion, RamPolicy

T = TypeVar("T")
_POLICY_NAME = re.compile(r"[A-Za-z0-9-]{1,128}")
MAX_POLICY_VERSIONS = 5
ROTATE_OLDEST = "DeleteOldestNonDefaultVersionWhenLimitExceeded"


@dataclass(frozen=True)
class PolicyView:
    """A system or custom policy as the API shows it."""

    name: str
    type: str
    description: str
    default_version: str
    document: str
    created_at: int
    updated_at: int
    attachment_count: int = 0


def check_policy_name(name: str) -> str:
    if not _POLICY_NAME.fullmatch(name):
        raise InvalidParameter(api.POLICY_NAME_INVALID, name=name[:140])
    return name


def check_document(text: str) -> str:
    try:
        parse_policy(text)
    except PolicyDocumentError as error:
        raise ram_errors.bad_document(str(error)) from None
    return text


def _system_view(name: str, count: int = 0) -> PolicyView:
    policy = SYSTEM_POLICIES[name]
    return PolicyView(
        name,
        SYSTEM,
        policy.description,
        "v1",
        policy.document,
        SYSTEM_CREATED_MS,
        SYSTEM_CREATED_MS,
        count,
    )


def _custom_view(policy: RamPolicy, count: int = 0) -> PolicyView:
    return PolicyView(
        policy.name,
        CUSTOM,
        policy.description,
        policy.default_version,
        policy.document,
        policy.created_at,
        policy.updated_at,
        count,
    )


class PolicyService(RamService):
    async def create_policy(self, name: str, description: str, document: str) -> PolicyView:
        check_policy_name(name)
        check_document(document)
        if name in SYSTEM_POLICIES:
            raise ram_errors.policy_exists(name)
        now = self._ctx.clock.now_ms()
        policy = RamPolicy(name, description, "v1", now, now, document)

        def create(conn: Connection) -> None:
            if store.get_policy(conn, name) is not None:
                raise ram_errors.policy_exists(name)
            store.insert_policy(conn, policy, now)

        try:
            await self._write(create)
        except IntegrityError:
            raise ram_errors.policy_exists(name) from None
        return _custom_view(policy)

    def _policy(self, conn: Connection, name: str, policy_type: str) -> PolicyView:
        if policy_type == SYSTEM:
            if name not in SYSTEM_POLICIES:
                raise ram_errors.policy_not_found(name, SYSTEM)
            count = store.attachment_counts(conn, SYSTEM).get(name, 0)
            return _system_view(name, count)
        policy = store.get_policy(conn, name)
        if policy is None:
            raise ram_errors.policy_not_found(name, CUSTOM)
        return _custom_view(policy, store.attachment_counts(conn, CUSTOM).get(name, 0))

    async def get_policy(self, name: str, policy_type: str) -> PolicyView:
        return await self._ctx.db.read(lambda conn: self._policy(conn, name, policy_type))

    async def list_policies(self, policy_type: str) -> list[PolicyView]:
        """System policies first, then custom ones, each by name (``policy_type`` "" for both)."""

        def policies(conn: Connection) -> list[PolicyView]:
            found: list[PolicyView] = []
            if policy_type in ("", SYSTEM):
                counts = store.attachment_counts(conn, SYSTEM)
                found += [_system_view(n, counts.get(n, 0)) for n in sorted(SYSTEM_POLICIES)]
            if policy_type in ("", CUSTOM):
                counts = store.attachment_counts(conn, CUSTOM)
                found += [_custom_view(p, counts.get(p.name, 0)) for p in store.list_policies(conn)]
            return found

        return await self._ctx.db.read(policies)

    async def delete_policy(self, name: str) -> None:
        def delete(conn: Connection) -> None:
            self._policy(conn, name, CUSTOM)
            if store.attachment_counts(conn, CUSTOM).get(name):
                raise Conflict(api.POLICY_ATTACHED, name=name)
            store.delete_policy(conn, name)

        await self._write(delete)

    async def create_version(
        self, name: str, document: str, set_as_default: bool, rotate: str
    ) -> PolicyVersion:
        check_document(document)
        now = self._ctx.clock.now_ms()

        def create(conn: Connection) -> PolicyVersion:
            policy = self._policy(conn, name, CUSTOM)
            versions = store.versions_of(conn, name)
            if len(versions) >= MAX_POLICY_VERSIONS:
                if rotate != ROTATE_OLDEST:
                    raise LimitExceeded(
                        api.POLICY_VERSIONS_TOO_MANY,
                        name=name,
                        limit=MAX_POLICY_VERSIONS,
                        rotate_oldest=ROTATE_OLDEST,
                    )
                oldest = next(v for v in versions if v.version_id != policy.default_version)
                store.delete_version(conn, name, oldest.version_id)
            number = max(int(v.version_id[1:]) for v in versions) + 1
            version = PolicyVersion(name, f"v{number}", document, now)
            store.insert_version(conn, version)
            if set_as_default:
                store.set_default_version(conn, name, version.version_id, now)
            return version

        return await self._write(create)

    # -- attachments

    async def attach(self, user_name: str, policy_type: str, policy_name: str) -> None:
        now = self._ctx.clock.now_ms()

        def attach(conn: Connection) -> None:
            user = self._user(conn, user_name)
            self._policy(conn, policy_name, policy_type)
            existing = store.attachments_of(conn, user.id)
            if any((a.policy_type, a.policy_name) == (policy_type, policy_name) for a in existing):
                raise Conflict(
                    api.POLICY_ALREADY_ATTACHED, policy_name=policy_name, user_name=user_name
                )
            store.attach(conn, Attachment(user.id, policy_type, policy_name, now))

        try:
            await self._write(attach)
        except IntegrityError:
            raise Conflict(
                api.POLICY_ALREADY_ATTACHED, policy_name=policy_name, user_name=user_name
            ) from None

    async def detach(self, user_name: str, policy_type: str, policy_name: str) -> None:
        def detach(conn: Connection) -> None:
            user = self._user(conn, user_name)
            if not store.detach(conn, user.id, policy_type, policy_name):
                raise NotFound(
                    api.POLICY_NOT_ATTACHED,
                    policy_name=policy_name,
                    policy_type=policy_type,
                    user_name=user_name,
                )

        await self._write(detach)

    async def policies_for_user(self, user_name: str) -> list[tuple[PolicyView, int]]:
        """The user's policies with the time each was attached."""

        def policies(conn: Connection) -> list[tuple[PolicyView, int]]:
            user = self._user(conn, user_name)
            found = []
            for attachment in store.attachments_of(conn, user.id):
                try:
                    view = self._policy(conn, attachment.policy_name, attachment.policy_type)
                except NotFound:  # a system policy a later release dropped
                    continue
                found.append((view, attachment.attached_at))
            return found

        return await self._ctx.db.read(policies)
