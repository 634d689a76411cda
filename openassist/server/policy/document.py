"""Parsing and validating a RAM policy document (Version "1").

```
{"Version": "1",
 "Statement": [{"Effect": "Allow" | "Deny",
                "Action" | "NotAction": "ecs:Describe*" | [...],
                "Resource" | "NotResource": "acs:ecs:*:*:instance/mi-*" | [...],
                "Condition": {"StringEquals": {"ecs:tag/env": ["staging"]}}}]}
```

Every refusal says where the document is wrong and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from openassist.server import json_input
from openassist.server.policy.conditions import CONDITION_OPERATORS, Condition, normalise_key
from openassist.server.policy.patterns import compile_pattern

MAX_DOCUMENT_LENGTH = 6144  # characters, as RAM allows for a custom policy's document
VERSION = "1"
_ACTION_RE = re.compile(r"\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+")
_STATEMENT_KEYS = frozenset(
    {"Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Sid"}
)


class PolicyDocumentError(ValueError):
    """The document is not a valid policy; the message says what to fix."""


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Statement:
    effect: Effect
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    not_action: bool = False  # the actions are those it does NOT apply to
    not_resource: bool = False

    @cached_property
    def _action_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(compile_pattern(p, ignore_case=True) for p in self.actions)

    @cached_property
    def _resource_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(compile_pattern(p) for p in self.resources)

    def applies_to_action(self, action: str) -> bool:
        hit = any(p.fullmatch(action) for p in self._action_patterns)
        return hit != self.not_action

    def applies_to_resource(self, resource: str) -> bool:
        hit = any(p.fullmatch(resource) for p in self._resource_patterns)
        return hit != self.not_resource


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise PolicyDocumentError(f"{where} must be a string or a non-empty list of strings.")
    return tuple(items)


def _actions(value: Any, where: str) -> tuple[str, ...]:
    actions = _strings(value, where)
    for item in actions:
        if not _ACTION_RE.fullmatch(item):
            raise PolicyDocumentError(
                f"{where} {item!r} is not an action: write product:Action, such as "
                "ecs:RunCommand, ecs:Describe* or ram:*, or * for every action."
            )
    return actions


def _resources(value: Any, where: str) -> tuple[str, ...]:
    resources = _strings(value, where)
    for item in resources:
        if item != "*" and not (item.startswith("acs:") and item.count(":") >= 2):
            raise PolicyDocumentError(
                f"{where} {item!r} is not a resource: write an ARN such as "
                "acs:ecs:*:*:instance/mi-* (acs:product:region:account:relative-id), or *."
            )
    return resources


def _conditions(value: Any, where: str) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise PolicyDocumentError(f"{where} must be an object of operators.")
    conditions = []
    for operator, keys in value.items():
        spec = CONDITION_OPERATORS.get(operator)
        if spec is None:
            known = ", ".join(sorted(CONDITION_OPERATORS))
            raise PolicyDocumentError(
                f"{where} has the unknown operator {operator!r}; use one of {known}."
            )
        if not isinstance(keys, dict) or not keys:
            raise PolicyDocumentError(f"{where}.{operator} must be an object of condition keys.")
        for key, raw in keys.items():
            values = _strings(_as_text(raw), f"{where}.{operator}.{key}")
            for item in values:
                try:
                    if spec.validate:
                        spec.validate(item)
                except ValueError:
                    raise PolicyDocumentError(
                        f"{where}.{operator}.{key} value {item!r} does not suit {operator}."
                    ) from None
            conditions.append(Condition(operator, normalise_key(key), values))
    return tuple(conditions)


def _as_text(raw: Any) -> Any:
    """Booleans and numbers may be written bare (``"Bool": {"acs:MFAPresent": true}``)."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return str(raw)
    if isinstance(raw, list):
        return [_as_text(item) for item in raw]
    return raw


def _one_of(item: dict[str, Any], names: tuple[str, str], where: str) -> tuple[str, Any]:
    present = [name for name in names if name in item]
    if len(present) != 1:
        raise PolicyDocumentError(f"{where} must have exactly one of {names[0]} or {names[1]}.")
    return present[0], item[present[0]]


def _statement(item: Any, where: str) -> Statement:
    if not isinstance(item, dict):
        raise PolicyDocumentError(f"{where} must be an object.")
    unknown = sorted(set(item) - _STATEMENT_KEYS)
    if unknown:
        raise PolicyDocumentError(
            f"{where} has the unknown element {unknown[0]!r}; a statement has Effect, Action "
            "(or NotAction), Resource (or NotResource) and optionally Condition."
        )
    if item.get("Effect") not in (Effect.ALLOW, Effect.DENY):
        raise PolicyDocumentError(f"{where}.Effect must be Allow or Deny.")
    action_name, actions = _one_of(item, ("Action", "NotAction"), where)
    resource_name, resources = _one_of(item, ("Resource", "NotResource"), where)
    return Statement(
        effect=Effect(item["Effect"]),
        actions=_actions(actions, f"{where}.{action_name}"),
        resources=_resources(resources, f"{where}.{resource_name}"),
        conditions=_conditions(item.get("Condition", {}), f"{where}.Condition"),
        not_action=action_name == "NotAction",
        not_resource=resource_name == "NotResource",
    )


def parse_policy(text: str) -> PolicyDocument:
    """Parse and validate ``text``; raises PolicyDocumentError naming what to fix."""
    if len(text) > MAX_DOCUMENT_LENGTH:
        raise PolicyDocumentError(
            f"The policy document has {len(text)} characters; at most {MAX_DOCUMENT_LENGTH}."
        )
    try:
        document = json_input.loads(text)
    except ValueError as error:
        raise PolicyDocumentError(f"The policy document is not valid JSON: {error}.") from None
    if not isinstance(document, dict):
        raise PolicyDocumentError('The policy document must be a JSON object {"Version": ...}.')
    unknown = sorted(set(document) - {"Version", "Statement"})
    if unknown:
        raise PolicyDocumentError(
            f"The policy document has the unknown element {unknown[0]!r}; it has Version and "
            "Statement only."
        )
    if document.get("Version") != VERSION:
        raise PolicyDocumentError('The policy document\'s Version must be "1".')
    raw = document.get("Statement")
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise PolicyDocumentError("The policy document's Statement must be a non-empty list.")
    return PolicyDocument(
        tuple(_statement(item, f"Statement[{n}]") for n, item in enumerate(items))
    )
