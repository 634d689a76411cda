"""Deciding one request against a principal's policies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from openassist.server.policy.document import Effect, PolicyDocument, Statement


@dataclass(frozen=True)
class NamedPolicy:
    name: str
    document: PolicyDocument


@dataclass(frozen=True)
class AccessRequest:
    """``action`` as ``product:Action``; ``resource`` as an ARN; ``context`` keyed by normalised
    condition keys (``acs:sourceip``, ``ecs:tag/env`` ...)."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The verdict and the statement that decided it (none for an implicit deny)."""

    allowed: bool
    policy: str = ""
    statement: int = -1  # index in the policy's Statement list
    explicit: bool = False  # an explicit Deny (or an Allow); False: nothing allowed it

    @property
    def reason(self) -> str:
        if self.allowed:
            return f"allowed by {self.policy} Statement[{self.statement}]"
        if self.explicit:
            return f"explicitly denied by {self.policy} Statement[{self.statement}]"
        return "no policy allows it"


def _applies(statement: Statement, request: AccessRequest) -> bool:
    return (
        statement.applies_to_action(request.action)
        and statement.applies_to_resource(request.resource)
        and all(condition.holds(request.context) for condition in statement.conditions)
    )


def evaluate(policies: Sequence[NamedPolicy], request: AccessRequest) -> Decision:
    """An explicit Deny wins over every Allow; without an applicable Allow, denied."""
    allowed: Decision | None = None
    for policy in policies:
        for index, statement in enumerate(policy.document.statements):
            if not _applies(statement, request):
                continue
            if statement.effect is Effect.DENY:
                return Decision(False, policy.name, index, explicit=True)
            if allowed is None:
                allowed = Decision(True, policy.name, index, explicit=True)
    return allowed if allowed is not None else Decision(False)


Rule = tuple[str, int, Statement]  # (policy name, index of the statement in it, statement)


class PolicySet:
    """A principal's policies indexed by action: the decisions of ``evaluate``, ``might_allow``
    and ``grants_everything`` (the same verdict and deciding statement, checked by the property
    test), at a cost that stays small with many policies on the per-call path.

    Per action, the statements that apply to it are kept apart as Deny and Allow lists in
    document order: the first applicable Deny decides, else the first applicable Allow, which
    is what ``evaluate`` decides walking everything. Within one check, statements naming the
    same resources share one match.
    """

    MAX_ACTIONS = 512  # remembered actions (the server has fewer than 100)

    def __init__(self, policies: Sequence[NamedPolicy]) -> None:
        self.policies = tuple(policies)
        self._rules: dict[str, tuple[tuple[Rule, ...], tuple[Rule, ...]]] = {}
        self._everything: dict[str, bool] = {}

    def _for(self, action: str) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
        found = self._rules.get(action)
        if found is None:
            rules = [
                (p.name, n, s)
                for p in self.policies
                for n, s in enumerate(p.document.statements)
                if s.applies_to_action(action)
            ]
            found = (
                tuple(r for r in rules if r[2].effect is Effect.DENY),
                tuple(r for r in rules if r[2].effect is Effect.ALLOW),
            )
            if len(self._rules) < self.MAX_ACTIONS:
                self._rules[action] = found
        return found

    def evaluate(self, request: AccessRequest) -> Decision:
        denies, allows = self._for(request.action)
        matched: dict[tuple[tuple[str, ...], bool], bool] = {}
        for explicit_deny, rules in ((True, denies), (False, allows)):
            for name, index, statement in rules:
                key = (statement.resources, statement.not_resource)
                hit = matched.get(key)
                if hit is None:
                    hit = matched[key] = statement.applies_to_resource(request.resource)
                if hit and _conditions_hold(statement, request.context):
                    return Decision(not explicit_deny, name, index, explicit=True)
        return Decision(False)

    def might_allow(self, action: str, context: Mapping[str, str]) -> Decision:
        denies, allows = self._for(action)
        for name, index, statement in denies:
            if (
                not statement.not_resource
                and "*" in statement.resources
                and all(c.key in context and c.holds(context) for c in statement.conditions)
            ):
                return Decision(False, name, index, explicit=True)
        for name, index, statement in allows:
            if all(c.holds(context) for c in statement.conditions if c.key in context):
                return Decision(True, name, index, explicit=True)
        return Decision(False)

    def grants_everything(self, action: str) -> bool:
        found = self._everything.get(action)
        if found is None:
            found = grants_everything(self.policies, action)
            if len(self._everything) < self.MAX_ACTIONS:
                self._everything[action] = found
        return found


def _conditions_hold(statement: Statement, context: Mapping[str, str]) -> bool:
    # A plain loop: measurably cheaper than all() over a generator on this hot path.
    for condition in statement.conditions:  # noqa: SIM110
        if not condition.holds(context):
            return False
    return True


def grants_everything(policies: Sequence[NamedPolicy], action: str) -> bool:
    """True when ``action`` is allowed on every resource in every context: some statement allows
    everything unconditionally and no Deny statement could apply to the action. Lets a caller
    skip per-resource checks (and per-row filtering) for administrators."""
    statements = [s for p in policies for s in p.document.statements]
    if any(s.effect is Effect.DENY and s.applies_to_action(action) for s in statements):
        return False
    return any(
        s.effect is Effect.ALLOW
        and s.applies_to_action(action)
        and not s.conditions
        and not s.not_resource
        and "*" in s.resources
        for s in statements
    )


def might_allow(
    policies: Sequence[NamedPolicy], action: str, context: Mapping[str, str]
) -> Decision:
    """Whether ``action`` could be allowed on some resource, judged before the resources are
    known: the check at the door of every call. ``context`` holds the request's keys
    (``acs:sourceip`` ...); conditions on keys it lacks (a target's tags) are left to the
    per-resource ``evaluate``. A Deny refuses here only when it surely applies: on every
    resource, with every condition decided by ``context``."""
    allowed: Decision | None = None
    for policy in policies:
        for index, statement in enumerate(policy.document.statements):
            if not statement.applies_to_action(action):
                continue
            decided = [c for c in statement.conditions if c.key in context]
            if statement.effect is Effect.DENY:
                if (
                    len(decided) == len(statement.conditions)
                    and not statement.not_resource
                    and "*" in statement.resources
                    and all(c.holds(context) for c in decided)
                ):
                    return Decision(False, policy.name, index, explicit=True)
            elif allowed is None and all(c.holds(context) for c in decided):
                allowed = Decision(True, policy.name, index, explicit=True)
    return allowed if allowed is not None else Decision(False)
