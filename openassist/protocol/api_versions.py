"""The RPC products this server answers (ECS Cloud Assistant, OOS parameter store, RAM, ActionTrail)
and which version each action belongs to: one table for the server's registry and the CLI's
client."""

from __future__ import annotations

ECS_VERSION = "2014-05-26"
OOS_VERSION = "2019-06-01"
RAM_VERSION = "2015-05-01"
ACTIONTRAIL_VERSION = "2020-07-06"

OOS_ACTIONS = frozenset(
    {
        "CreateParameter",
        "GetParameter",
        "DeleteParameter",
        "CreateSecretParameter",
        "GetSecretParameter",
        "DeleteSecretParameter",
    }
)


RAM_ACTIONS = frozenset(
    {
        "CreateUser",
        "GetUser",
        "ListUsers",
        "UpdateUser",
        "DeleteUser",
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "CreatePolicy",
        "GetPolicy",
        "ListPolicies",
        "DeletePolicy",
        "CreatePolicyVersion",
        "AttachPolicyToUser",
        "DetachPolicyFromUser",
        "ListPoliciesForUser",
        "CreateLoginProfile",
        "GetLoginProfile",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
    }
)

ACTIONTRAIL_ACTIONS = frozenset({"LookupEvents"})


def version_of(action: str) -> str:
    if action in OOS_ACTIONS:
        return OOS_VERSION
    if action in RAM_ACTIONS:
        return RAM_VERSION
    if action in ACTIONTRAIL_ACTIONS:
        return ACTIONTRAIL_VERSION
    return ECS_VERSION


def product_of(action: str) -> str:
    """The product prefix of the action in RAM policies (``ecs:RunCommand``)."""
    return {OOS_VERSION: "oos", RAM_VERSION: "ram", ACTIONTRAIL_VERSION: "actiontrail"}.get(
        version_of(action), "ecs"
    )
