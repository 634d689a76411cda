"""The policy language by table: refusals of bad documents, and decisions (Allow, Deny,
wildcards, conditions)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openassist.server.policy import (
    AccessRequest,
    NamedPolicy,
    PolicyDocumentError,
    evaluate,
    grants_everything,
    might_allow,
    parse_policy,
)

INSTANCE = "acs:ecs:local:openassist:instance/mi-staging1"


def _policy(*statements: dict[str, Any], name: str = "p") -> NamedPolicy:
    return NamedPolicy(name, parse_policy(json.dumps({"Version": "1", "Statement": statements})))


def _allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


STAGING_DEPLOY = {
    "StringEquals": {"ecs:tag/env": "staging", "ecs:RunAsUser": "deploy"},
}

DECISIONS: list[tuple[str, list[dict[str, Any]], str, str, dict[str, str], bool]] = [
    # (case, statements, action, resource, context, allowed)
    ("nothing allows it", [], "ecs:RunCommand", INSTANCE, {}, False),
    ("allow everything", [_allow()], "ecs:RunCommand", INSTANCE, {}, True),
    ("action wildcard", [_allow("ecs:Describe*")], "ecs:DescribeInvocations", INSTANCE, {}, True),
    ("action wildcard misses", [_allow("ecs:Describe*")], "ecs:RunCommand", INSTANCE, {}, False),
    ("action case-insensitive", [_allow("ECS:runcommand")], "ecs:RunCommand", INSTANCE, {}, True),
    ("question mark", [_allow("ecs:?unCommand")], "ecs:RunCommand", INSTANCE, {}, True),
    ("product wildcard", [_allow("ram:*")], "ecs:RunCommand", INSTANCE, {}, False),
    (
        "resource pattern",
        [_allow("ecs:RunCommand", "acs:ecs:*:*:instance/mi-staging*")],
        "ecs:RunCommand",
        INSTANCE,
        {},
        True,
    ),
    (
        "resource pattern misses",
        [_allow("ecs:RunCommand", "acs:ecs:*:*:instance/mi-prod*")],
        "ecs:RunCommand",
        INSTANCE,
        {},
        False,
    ),
    (
        "resource is case-sensitive",
        [_allow("ecs:RunCommand", "acs:ecs:*:*:instance/MI-*")],
        "ecs:RunCommand",
        INSTANCE,
        {},
        False,
    ),
    (
        "explicit deny wins",
        [_allow(), _deny("ecs:RunCommand")],
        "ecs:RunCommand",
        INSTANCE,
        {},
        False,
    ),
    (
        "deny elsewhere leaves allow",
        [_allow(), _deny("ecs:StopInvocation")],
        "ecs:RunCommand",
        INSTANCE,
        {},
        True,
    ),
    (
        "NotAction allow",
        [{"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"}],
        "ecs:RunCommand",
        INSTANCE,
        {},
        True,
    ),
    (
        "NotAction excludes",
        [{"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"}],
        "ram:CreateUser",
        "*",
        {},
        False,
    ),
    (
        "NotResource deny",
        [
            _allow(),
            {"Effect": "Deny", "Action": "*", "NotResource": "acs:ecs:*:*:instance/mi-staging*"},
        ],
        "ecs:RunCommand",
        INSTANCE,
        {},
        True,
    ),
    (
        "tag and user both match",
        [_allow("ecs:RunCommand", Condition=STAGING_DEPLOY)],
        "ecs:RunCommand",
        INSTANCE,
        {"ecs:tag/env": "staging", "ecs:runasuser": "deploy"},
        True,
    ),
    (
        "tag matches, root run refused",
        [_allow("ecs:RunCommand", Condition=STAGING_DEPLOY)],
        "ecs:RunCommand",
        INSTANCE,
        {"ecs:tag/env": "staging", "ecs:runasuser": ""},
        False,
    ),
    (
        "untagged instance refused",
        [_allow("ecs:RunCommand", Condition=STAGING_DEPLOY)],
        "ecs:RunCommand",
        INSTANCE,
        {"ecs:runasuser": "deploy"},
        False,
    ),
    (
        "values are alternatives",
        [_allow(Condition={"StringEquals": {"ecs:tag/env": ["dev", "staging"]}})],
        "ecs:RunCommand",
        INSTANCE,
        {"ecs:tag/env": "staging"},
        True,
    ),
    (
        "tag key keeps its case",
        [_allow(Condition={"StringEquals": {"ecs:tag/Env": "staging"}})],
        "ecs:RunCommand",
        INSTANCE,
        {"ecs:tag/env": "staging"},
        False,
    ),
    (
        "StringLike",
        [_allow(Condition={"StringLike": {"ecs:CommandType": "Run*Script"}})],
        "ecs:RunCommand",
        INSTANCE,
        {"ecs:commandtype": "RunShellScript"},
        True,
    ),
    (
        "StringNotEquals on absent key holds",
        [_deny(Condition={"StringNotEquals": {"ecs:tag/env": "staging"}}), _allow()],
        "ecs:RunCommand",
        INSTANCE,
        {},
        False,
    ),
    (
        "IpAddress inside",
        [_allow(Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "127.0.0.1"]}})],
        "ecs:RunCommand",
        INSTANCE,
        {"acs:sourceip": "127.0.0.1"},
        True,
    ),
    (
        "IpAddress outside",
        [_allow(Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}})],
        "ecs:RunCommand",
        INSTANCE,
        {"acs:sourceip": "192.0.2.1"},
        False,
    ),
    (
        "NotIpAddress deny from outside",
        [_allow(), _deny(Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}})],
        "ecs:RunCommand",
        INSTANCE,
        {"acs:sourceip": "192.0.2.1"},
        False,
    ),
    (
        "NotIpAddress deny from inside",
        [_allow(), _deny(Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}})],
        "ecs:RunCommand",
        INSTANCE,
        {"acs:sourceip": "10.1.2.3"},
        True,
    ),
    (
        "Bool",
        [_allow(Condition={"Bool": {"acs:SecureTransport": True}})],
        "ecs:RunCommand",
        INSTANCE,
        {"acs:securetransport": "true"},
        True,
    ),
    (
        "Bool false",
        [_allow(Condition={"Bool": {"acs:SecureTransport": "true"}})],
        "ecs:RunCommand",
        INSTANCE,
        {"acs:securetransport": "false"},
        False,
    ),
    (
        "DateLessThan before",
        [_allow(Condition={"DateLessThan": {"acs:CurrentTime": "2030-01-01T00:00:00+08:00"}})],
        "ecs:RunCommand",
        INSTANCE,
        {"acs:currenttime": "2029-12-31T15:59:59Z"},
        True,
    ),
    (
        "DateLessThan after",
        [_allow(Condition={"DateLessThan": {"acs:CurrentTime": "2030-01-01T00:00:00+08:00"}})],
        "ecs:RunCommand",
        INSTANCE,
        {"acs:currenttime": "2029-12-31T16:00:00Z"},
        False,
    ),
    (
        "two operators must both hold",
        [
            _allow(
                Condition={
                    "StringEquals": {"ecs:tag/env": "staging"},
                    "IpAddress": {"acs:SourceIp": "10.0.0.0/8"},
                }
            )
        ],
        "ecs:RunCommand",
        INSTANCE,
        {"ecs:tag/env": "staging", "acs:sourceip": "192.0.2.1"},
        False,
    ),
]


@pytest.mark.parametrize(
    ("statements", "action", "resource", "context", "allowed"),
    [case[1:] for case in DECISIONS],
    ids=[case[0] for case in DECISIONS],
)
def test_decision_table(
    statements: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, str],
    allowed: bool,
) -> None:
    policies = [_policy(*statements)] if statements else []
    assert evaluate(policies, AccessRequest(action, resource, context)).allowed is allowed


def test_the_deciding_statement_is_named() -> None:
    policies = [
        _policy(_allow(), name="Admin"),
        _policy(_allow(), _deny("ecs:Stop*"), name="NoStop"),
    ]
    denied = evaluate(policies, AccessRequest("ecs:StopInvocation", INSTANCE))
    assert (denied.allowed, denied.policy, denied.statement, denied.explicit) == (
        False,
        "NoStop",
        1,
        True,
    )
    assert denied.reason == "explicitly denied by NoStop Statement[1]"
    allowed = evaluate(policies, AccessRequest("ecs:RunCommand", INSTANCE))
    assert (allowed.policy, allowed.statement) == ("Admin", 0)
    assert evaluate([], AccessRequest("ecs:RunCommand", INSTANCE)).reason == "no policy allows it"


def _one(**statement: Any) -> str:
    return json.dumps({"Version": "1", "Statement": [statement]})


def _when(condition: dict[str, Any]) -> str:
    return _one(Effect="Allow", Action="*", Resource="*", Condition=condition)


REFUSALS: list[tuple[str, str]] = [
    ("not json", "JSON"),
    ("[]", "JSON object"),
    ('{"Version": "2", "Statement": []}', 'Version must be "1"'),
    ('{"Version": "1", "Statement": []}', "non-empty list"),
    ('{"Version": "1", "Statement": [], "Principal": "*"}', "unknown element 'Principal'"),
    ('{"Version": "1", "Statement": [1]}', "Statement[0] must be an object"),
    (_one(Effect="Permit", Action="*", Resource="*"), "Allow or Deny"),
    (_one(Effect="Allow", Resource="*"), "exactly one of Action or NotAction"),
    (_one(Effect="Allow", Action="*", NotAction="x:y", Resource="*"), "exactly one of Action"),
    (_one(Effect="Allow", Action="RunCommand", Resource="*"), "product:Action"),
    (_one(Effect="Allow", Action=[], Resource="*"), "non-empty list"),
    (_one(Effect="Allow", Action="*", Resource="instance/*"), "ARN"),
    (_when({"StringMatches": {"a:b": "c"}}), "unknown operator 'StringMatches'"),
    (_when({"IpAddress": {"acs:SourceIp": "10.0.0.300/8"}}), "does not suit IpAddress"),
    (_when({"DateLessThan": {"acs:CurrentTime": "soon"}}), "does not suit DateLessThan"),
    (_when({"Bool": {"acs:SecureTransport": "yes"}}), "does not suit Bool"),
    (_one(Effect="Allow", Action="*", Resource="*", Sidd="x"), "unknown element 'Sidd'"),
    (_one(Effect="Allow", Action="*", Resource="*", Sid="y" * 6200), "at most 6144"),
]


@pytest.mark.parametrize(("text", "says"), REFUSALS)
def test_malformed_documents_are_refused_saying_what_to_fix(text: str, says: str) -> None:
    with pytest.raises(PolicyDocumentError) as refused:
        parse_policy(text)
    assert says in str(refused.value)


def test_a_single_statement_object_and_bare_values_are_accepted() -> None:
    document = parse_policy(
        '{"Version": "1", "Statement": {"Effect": "Allow", "Action": "ecs:*", "Resource": "*",'
        ' "Condition": {"NumericLessThan": {"ecs:Timeout": 60}}}}'
    )
    assert document.statements[0].conditions[0].values == ("60",)


def test_grants_everything_only_without_any_applicable_deny() -> None:
    admin = _policy(_allow())
    assert grants_everything([admin], "ecs:DescribeInvocations")
    assert not grants_everything(
        [admin, _policy(_deny("ecs:Describe*", "acs:ecs:*:*:instance/mi-p*"))],
        "ecs:DescribeInvocations",
    )
    assert grants_everything([admin, _policy(_deny("ecs:RunCommand"))], "ecs:DescribeInvocations")
    assert not grants_everything(
        [_policy(_allow(Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))],
        "ecs:DescribeInvocations",
    )
    assert not grants_everything(
        [_policy(_allow("ecs:Describe*", "acs:ecs:*:*:instance/*"))], "ecs:DescribeInvocations"
    )


DOOR: list[tuple[str, list[dict[str, Any]], dict[str, str], bool]] = [
    # (case, statements, request context, admitted at the door)
    ("nothing allows it", [], {}, False),
    (
        "allowed on some instances only",
        [_allow("ecs:RunCommand", "acs:ecs:*:*:instance/a*")],
        {},
        True,
    ),
    ("allowed when a tag matches", [_allow("ecs:RunCommand", Condition=STAGING_DEPLOY)], {}, True),
    (
        "source address decided at the door",
        [_allow("ecs:RunCommand", Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}})],
        {"acs:sourceip": "192.0.2.1"},
        False,
    ),
    ("deny on every resource", [_allow(), _deny("ecs:RunCommand")], {}, False),
    (
        "deny on some resources is left to the per-resource check",
        [_allow(), _deny("ecs:RunCommand", "acs:ecs:*:*:instance/mi-prod*")],
        {},
        True,
    ),
    (
        "deny on a tag is left to the per-resource check",
        [_allow(), _deny("ecs:RunCommand", Condition={"StringEquals": {"ecs:tag/env": "prod"}})],
        {},
        True,
    ),
    (
        "deny from an address applies at the door",
        [_allow(), _deny(Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}})],
        {"acs:sourceip": "192.0.2.1"},
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "statements", "context", "admitted"), DOOR, ids=[d[0] for d in DOOR]
)
def test_might_allow_admits_what_some_resource_could_allow(
    case: str, statements: list[dict[str, Any]], context: dict[str, str], admitted: bool
) -> None:
    policies = [_policy(*statements)] if statements else []
    assert might_allow(policies, "ecs:RunCommand", context).allowed is admitted, case
