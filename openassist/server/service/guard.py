"""What the caller may touch, applied by the use cases inside their transaction: after targets
are resolved (ids or tags) and before anything is written, so a call refused on one target writes
nothing at all.

A ``Guard`` carries the caller's principal, the action and the request's condition keys; a
principal whose policies allow the action everywhere skips every per-resource check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from openassist.errors import ApiError
from openassist.server.policy import AccessRequest, Decision, evaluate, grants_everything
from openassist.server.service.principals import Principal
from openassist.server.store import fleet, tags

ACCOUNT_ID = "openassist"  # the account part of every ARN (one tenant per server)
_PLAIN_PRODUCTS = ("ram", "actiontrail")  # these answer NoPermission; ECS and OOS Forbidden.RAM
ROOT = "root"  # ecs:RunAsUser of a run without Username

Resource = tuple[str, Mapping[str, str]]  # (ARN, resource-level condition keys)


def arn(product: str, region: str, relative_id: str) -> str:
    """``acs:ecs:local:openassist:instance/mi-...``; RAM's own resources have no region."""
    return f"acs:{product}:{'' if product == 'ram' else region}:{ACCOUNT_ID}:{relative_id}"


def refusal(action: str, decision: Decision, resource: str = "") -> ApiError:
    """``action`` is qualified (``ecs:RunCommand``)."""
    where = f" on {resource}" if resource else ""
    why = decision.reason
    if action.split(":", 1)[0] in _PLAIN_PRODUCTS:
        return ApiError(
            "NoPermission",
            f"You are not authorized to do {action}{where} ({why}); ask an administrator for "
            "a policy that allows it.",
            403,
        )
    return ApiError(
        "Forbidden.RAM",
        f"User not authorized to operate on the specified resource: {action}{where} ({why}); "
        "ask an administrator for a policy that allows it.",
        403,
    )


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
        return self.principal is None or grants_everything(self.principal.policies, action)

    def check(self, resources: Iterable[Resource], action: str = "") -> None:
        """Raise the refusal naming the first resource that ``action`` (default: the guard's)
        may not touch."""
        action = action or self.action
        if self._unlimited(action):
            return
        assert self.principal is not None
        for resource, keys in resources:
            request = AccessRequest(action, resource, {**self.context, **keys})
            decision = evaluate(self.principal.policies, request)
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
            if evaluate(self.principal.policies, request).allowed:
                visible.add(instance_id)
        return tuple(sorted(visible))

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
