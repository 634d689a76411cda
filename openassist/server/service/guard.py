"""What the caller may touch, applied by the use cases inside their transaction: after targets
are resolved (ids or tags) and before anything is written, so a call refused on one target writes
nothing at all.

A ``Guard`` carries the caller's principal, the action and the request's condition keys; a
principal whose policies allow the action everywhere skips every per-resource check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection

from openassist.catalog import api
from openassist.errors import Forbidden
from openassist.protocol.api_versions import product_of
from openassist.server.policy import AccessRequest, Decision
from openassist.server.service.parameters import store_references
from openassist.server.service.principals import Principal
from openassist.server.store import commands, fleet, tags
from openassist.server.store.records import Command

ACCOUNT_ID = "openassist"  # the account part of every ARN (one tenant per server)
_PLAIN_PRODUCTS = ("ram", "actiontrail")  # these answer NoPermission; ECS and OOS Forbidden.RAM
ROOT = "root"  # ecs:RunAsUser of a run without Username

Resource = tuple[str, Mapping[str, str]]  # (ARN, resource-level condition keys)


def arn(product: str, region: str, relative_id: str) -> str:
    """``acs:ecs:local:openassist:instance/mi-...``; RAM's own resources have no region."""
    return f"acs:{product}:{'' if product == 'ram' else region}:{ACCOUNT_ID}:{relative_id}"


def refusal(action: str, decision: Decision, resource: str = "") -> Forbidden:
    """``action`` is qualified (``ecs:RunCommand``)."""
    plain = action.split(":", 1)[0] in _PLAIN_PRODUCTS
    return Forbidden(
        api.NOT_AUTHORIZED if plain else api.NOT_AUTHORIZED_RAM,
        action=action,
        where=f" on {resource}" if resource else "",
        why=decision.reason,
    )


def request_context(source_ip: str, now: datetime, secure: bool) -> dict[str, str]:
    """The request-level condition keys (normalised: lower case up to the first ``/``)."""
    return {
        "acs:sourceip": source_ip,
        "acs:currenttime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "acs:securetransport": "true" if secure else "false",
    }


def qualified(action: str) -> str:
    """``ecs:RunCommand``: the action as policies name it."""
    return f"{product_of(action)}:{action}"


def tag_keys(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """An instance's tags as condition keys (``ecs:tag/env``; the tag key keeps its case)."""
    return {f"ecs:tag/{key}": value for key, value in pairs}


@dataclass(frozen=True)
class Guard:
    principal: Principal | None  # None: the server itself (sweeps, schedules): no check
    action: str  # qualified: ecs:RunCommand
    region: str = "local"
    context: Mapping[str, str] = field(default_factory=dict)

    def _unlimited(self, action: str) -> bool:
        return self.principal is None or self.principal.rules.grants_everything(action)

    def check(self, resources: Iterable[Resource], action: str = "") -> None:
        """Raise the refusal naming the first resource that ``action`` (default: the guard's)
        may not touch."""
        action = action or self.action
        if self._unlimited(action):
            return
        assert self.principal is not None
        for resource, keys in resources:
            request = AccessRequest(action, resource, {**self.context, **keys})
            decision = self.principal.rules.evaluate(request)
            if not decision.allowed:
                raise refusal(action, decision, resource)

    def instance(self, instance_id: str) -> str:
        return arn("ecs", self.region, f"instance/{instance_id}")

    def check_instances(
        self, conn: Connection, instance_ids: Sequence[str], keys: Mapping[str, str] | None = None
    ) -> None:
        """Each instance, with its tags (``ecs:tag/KEY``) and ``keys`` as condition keys."""
        if self._unlimited(self.action):
            return
        labels = tags.tags_of(conn, tags.INSTANCE, instance_ids)
        self.check(
            (self.instance(i), {**tag_keys(labels.get(i, [])), **(keys or {})})
            for i in instance_ids
        )

    def visible(self, conn: Connection) -> tuple[str, ...] | None:
        """The instances the caller may see with this (Describe) action; None: every one. The
        list queries filter on it in SQL, so counts and pages agree with what is shown."""
        if self._unlimited(self.action):
            return None
        assert self.principal is not None
        instance_ids = fleet.all_instance_ids(conn)
        labels = tags.tags_of(conn, tags.INSTANCE, instance_ids)
        visible = set()
        for instance_id in instance_ids:
            context = {**self.context, **tag_keys(labels.get(instance_id, []))}
            request = AccessRequest(self.action, self.instance(instance_id), context)
            if self.principal.rules.evaluate(request).allowed:
                visible.add(instance_id)
        return tuple(sorted(visible))

    def visible_commands(self, conn: Connection) -> tuple[str, ...] | None:
        """The saved commands the caller may see with this (Describe) action, each judged by
        its ARN (``command/c-...``) with its tags (``ecs:tag/KEY``) and ``ecs:CommandType``;
        None: every one. DescribeCommands filters on it in SQL, so counts and pages agree."""
        if self._unlimited(self.action):
            return None
        assert self.principal is not None
        listed = commands.listed_types(conn)
        labels = tags.tags_of(conn, tags.COMMAND, [command_id for command_id, _ in listed])
        visible = []
        for command_id, command_type in listed:
            keys = {**tag_keys(labels.get(command_id, [])), "ecs:commandtype": command_type}
            request = AccessRequest(self.action, self.command(command_id), {**self.context, **keys})
            if self.principal.rules.evaluate(request).allowed:
                visible.append(command_id)
        return tuple(sorted(visible))

    def check_run(
        self,
        conn: Connection,
        command: Command,
        saved: bool,
        instance_ids: Sequence[str],
        username: str,
    ) -> None:
        """The caller may run this command, as this user, on every target, and read every
        secret parameter it names (when it fills placeholders)."""
        keys = {"ecs:runasuser": username or ROOT, "ecs:commandtype": str(command.type)}
        self.check_instances(conn, instance_ids, keys)
        if saved:
            self.check([(self.command(command.id), keys)])
        if command.enable_parameter:
            secrets = [r.name for r in store_references(command.content) if r.secret]
            self.check([self.secret(name) for name in secrets], "oos:GetSecretParameter")

    @property
    def user_name(self) -> str:
        return self.principal.user_name if self.principal else ""

    def command(self, command_id: str) -> str:
        return arn("ecs", self.region, f"command/{command_id}")

    def secret(self, name: str) -> Resource:
        return arn("oos", self.region, f"secretparameter/{name}"), {}

    def parameter(self, name: str) -> Resource:
        return arn("oos", self.region, f"parameter/{name}"), {}


UNGUARDED = Guard(None, "")
