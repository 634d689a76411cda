"""System policies: defined by the release (they change with the actions it serves), attachable
to users, neither editable nor deletable."""

from __future__ import annotations

import json
from dataclasses import dataclass

SYSTEM = "System"
CUSTOM = "Custom"
ADMINISTRATOR = "AdministratorAccess"
ASSISTANT_FULL = "AliyunECSAssistantFullAccess"
ASSISTANT_READ_ONLY = "AliyunECSAssistantReadOnlyAccess"
SYSTEM_CREATED_MS = 1_420_070_400_000  # 2015-01-01, as the RAM API shows system policies


@dataclass(frozen=True)
class SystemPolicy:
    name: str
    description: str
    document: str


def _document(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)}, indent=2)


SYSTEM_POLICIES: dict[str, SystemPolicy] = {
    policy.name: policy
    for policy in (
        SystemPolicy(
            ADMINISTRATOR,
            "Full access to every action and resource, including users and policies.",
            _document({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        ),
        SystemPolicy(
            ASSISTANT_FULL,
            "Full access to Cloud Assistant (commands, tasks, files, instances, parameters); "
            "no access to users, policies or the audit trail.",
            _document({"Effect": "Allow", "Action": ["ecs:*", "oos:*"], "Resource": "*"}),
        ),
        SystemPolicy(
            ASSISTANT_READ_ONLY,
            "Read-only access to Cloud Assistant: lists and results, never runs, stops, "
            "sends files or reads secret values.",
            _document(
                {
                    "Effect": "Allow",
                    "Action": ["ecs:Describe*", "ecs:List*", "oos:GetParameter"],
                    "Resource": "*",
                }
            ),
        ),
    )
}
