"""Authorization of API calls by the caller's RAM policies.

Two steps: at the door, ``admit`` refuses an action that no policy could allow on any resource
(or that a Deny refuses on every resource); then handlers that touch named resources call
``authorize`` with each one, before anything is written, so a call on ten targets of which one
is refused is refused whole, naming that one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from openassist.server.service.guard import Guard, arn, qualified, refusal, request_context
from openassist.server.service.principals import Principal

__all__ = ["admit", "arn", "authorize", "guard_of", "qualified", "request_context"]


def admit(principal: Principal, action: str, context: Mapping[str, str]) -> None:
    decision = principal.rules.might_allow(qualified(action), context)
    if not decision.allowed:
        raise refusal(qualified(action), decision)


def authorize(call: _Caller, resources: Iterable[tuple[str, Mapping[str, str]]]) -> None:
    """Raise the refusal naming the first resource the caller may not touch; ``resources`` are
    (ARN, resource-level condition keys such as ``ecs:tag/env``)."""
    guard_of(call).check(resources)


class _Caller(Protocol):
    @property
    def action(self) -> str: ...

    @property
    def principal(self) -> Principal | None: ...

    @property
    def region(self) -> str: ...

    @property
    def context(self) -> Mapping[str, str]: ...


def guard_of(call: _Caller, action: str = "") -> Guard:
    """The guard the use cases apply for this call (``action`` unqualified; default the call's)."""
    return Guard(call.principal, qualified(action or call.action), call.region, call.context)
