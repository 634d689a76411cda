"""The two RPC products this server answers, and which actions belong to the parameter store's
(OOS) version rather than ECS's: one table for the server's registry and the CLI's client."""

from __future__ import annotations

ECS_VERSION = "2014-05-26"
OOS_VERSION = "2019-06-01"

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


def version_of(action: str) -> str:
    return OOS_VERSION if action in OOS_ACTIONS else ECS_VERSION
