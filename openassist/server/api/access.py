"""Authorization of API calls by the caller's RAM policies.

Two steps: at the door, ``admit`` refuses an action that no policy could allow on any resource
(or that a Deny refuses on every resource); then handlers that touch named resources call
``authorize`` with each one, before anything is written, so a call on ten targets of which one
is refused is refused whole, naming that one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from openassist.catalog import api
from openassist.errors import Forbidden
from openassist.protocol.api_versions import product_of
from openassist.server.policy import AccessRequest, Decision, evaluate, might_allow
from openassist.server.service.principals import Principal

ACCOUNT_ID = "openassist"  # the account part of every ARN (one tenant per server)
_PLAIN_PRODUCTS = ("ram", "actiontrail")  # these answer NoPermission; ECS and OOS Forbidden.RAM


def arn(product: str, region: str, relative_id: str) -> str:
    """``acs:ecs:local:openassist:instance/mi-...``; RAM's own resources have no region."""
    return f"acs:{product}:{'' if product == 'ram' else region}:{ACCOUNT_ID}:{relative_id}"


def request_context(source_ip: str, now: datetime, secure: bool) -> dict[str, str]:
    """The request-level condition keys (normalised: lower case up to the first ``/``)."""
    return {
        "acs:sourceip": source_ip,
        "acs:currenttime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "acs:securetransport": "true" if secure else "false",
    }


def refusal(action: str, decision: Decision, resource: str = "") -> Forbidden:
    where = f" on {resource}" if resource else ""
    plain = product_of(action) in _PLAIN_PRODUCTS
    entry = api.NOT_AUTHORIZED if plain else api.NOT_AUTHORIZED_RAM
    return Forbidden(entry, action=action, where=where, why=decision.reason)


def qualified(action: str) -> str:
    return f"{product_of(action)}:{action}"


def admit(principal: Principal, action: str, context: Mapping[str, str]) -> None:
    decision = might_allow(principal.policies, qualified(action), context)
    if not decision.allowed:
        raise refusal(action, decision)


def authorize(
    principal: Principal | None,
    action: str,
    context: Mapping[str, str],
    resources: Iterable[tuple[str, Mapping[str, str]]],
) -> None:
    """Raise the refusal naming the first resource the caller may not touch; ``resources`` are
    (ARN, resource-level condition keys such as ``ecs:tag/env``)."""
    if principal is None:
        return
    name = qualified(action)
    for resource, keys in resources:
        request = AccessRequest(name, resource, {**context, **keys})
        decision = evaluate(principal.policies, request)
        if not decision.allowed:
            raise refusal(action, decision, resource)
