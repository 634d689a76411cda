"""The policy evaluator agrees with a straightforward reference evaluation on generated policies
and requests (the reference works on the raw JSON with a recursive wildcard matcher)."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from openassist.server.policy import (
    AccessRequest,
    NamedPolicy,
    PolicySet,
    evaluate,
    grants_everything,
    might_allow,
    parse_policy,
)

ACTIONS = ["ecs:RunCommand", "ecs:DescribeInvocations", "ecs:StopInvocation", "ram:CreateUser"]
ACTION_PATTERNS = ["*", "ecs:*", "ecs:Describe*", "ecs:RunCommand", "ram:*", "*:*User", "ecs:?top*"]
RESOURCES = [
    "acs:ecs:local:openassist:instance/mi-prod1",
    "acs:ecs:local:openassist:instance/mi-stage1",
    "acs:ram::openassist:user/alice",
]
RESOURCE_PATTERNS = ["*", "acs:ecs:*:*:instance/*", "acs:ecs:*:*:instance/mi-prod?", "acs:ram:*"]
KEYS = {
    "ecs:tag/env": ["staging", "production", "stag*"],
    "ecs:RunAsUser": ["", "deploy", "root"],
    "acs:SourceIp": ["10.0.0.0/8", "127.0.0.1", "192.0.2.0/24"],
}
OPERATORS = {
    "ecs:tag/env": ["StringEquals", "StringLike", "StringNotEquals"],
    "ecs:RunAsUser": ["StringEquals", "StringNotLike"],
    "acs:SourceIp": ["IpAddress", "NotIpAddress"],
}
CONTEXT_VALUES = {
    "ecs:tag/env": ["staging", "production", "stage"],
    "ecs:RunAsUser": ["", "deploy", "root"],
    "acs:SourceIp": ["10.1.1.1", "127.0.0.1", "192.0.2.7", "203.0.113.9"],
}


def wildcard(pattern: str, text: str) -> bool:
    if not pattern:
        return not text
    if pattern[0] == "*":
        return any(wildcard(pattern[1:], text[i:]) for i in range(len(text) + 1))
    if not text:
        return False
    return (pattern[0] == "?" or pattern[0] == text[0]) and wildcard(pattern[1:], text[1:])


def reference_condition(operator: str, actual: str | None, values: list[str]) -> bool:
    negated = operator in ("StringNotEquals", "StringNotLike", "NotIpAddress")
    if actual is None:
        return negated
    if operator in ("StringEquals", "StringNotEquals"):
        hit = actual in values
    elif operator in ("StringLike", "StringNotLike"):
        hit = any(wildcard(v, actual) for v in values)
    else:
        hit = any(
            ipaddress.ip_address(actual) in ipaddress.ip_network(v, strict=False) for v in values
        )
    return not hit if negated else hit


def reference(
    documents: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]
) -> bool:
    allowed = False
    for document in documents:
        for statement in document["Statement"]:
            action_hit = any(wildcard(p.lower(), action.lower()) for p in statement["Action"])
            resource_hit = any(wildcard(p, resource) for p in statement["Resource"])
            conditions_hold = all(
                reference_condition(operator, context.get(key), values)
                for operator, keys in statement.get("Condition", {}).items()
                for key, values in keys.items()
            )
            if action_hit and resource_hit and conditions_hold:
                if statement["Effect"] == "Deny":
                    return False
                allowed = True
    return allowed


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, dict[str, list[str]]]:
    block: dict[str, dict[str, list[str]]] = {}
    for key in draw(st.lists(st.sampled_from(sorted(KEYS)), max_size=2, unique=True)):
        operator = draw(st.sampled_from(OPERATORS[key]))
        values = draw(st.lists(st.sampled_from(KEYS[key]), min_size=1, max_size=2, unique=True))
        block.setdefault(operator, {})[key] = values
    return block


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2)),
        "Resource": draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2)),
    }
    condition = draw(conditions())
    if condition:
        statement["Condition"] = condition
    return statement


documents = st.lists(
    st.builds(
        lambda s: {"Version": "1", "Statement": s},
        st.lists(statements(), min_size=1, max_size=3),
    ),
    max_size=3,
)


@st.composite
def contexts(draw: st.DrawFn) -> dict[str, str]:
    context = {}
    for key in draw(st.lists(st.sampled_from(sorted(KEYS)), unique=True)):
        context[key] = draw(st.sampled_from(CONTEXT_VALUES[key]))
    return context


@settings(max_examples=250, deadline=None, derandomize=True)
@given(
    documents,
    st.sampled_from(ACTIONS),
    st.sampled_from(RESOURCES),
    contexts(),
)
def test_evaluate_agrees_with_the_reference(
    raw: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]
) -> None:
    policies = [NamedPolicy(f"p{n}", parse_policy(json.dumps(d))) for n, d in enumerate(raw)]
    normalised = {
        k.split("/")[0].lower() + k[len(k.split("/")[0]) :]: v for k, v in context.items()
    }
    request = AccessRequest(action, resource, normalised)
    decision = evaluate(policies, request)
    assert decision.allowed is reference(raw, action, resource, context)
    # The indexed form the server uses per call decides the same, by the same statement.
    indexed = PolicySet(policies)
    assert indexed.evaluate(request) == decision
    assert indexed.evaluate(request) == decision  # again, from the remembered statements
    assert indexed.might_allow(action, normalised) == might_allow(policies, action, normalised)
    assert indexed.grants_everything(action) is grants_everything(policies, action)
