"""``openassist diagnose t-...``: for each failed instance, what happened and what to do."""

from __future__ import annotations

import textwrap
from typing import Any

from openassist.cli.api_client import ApiClient

_WIDTH = 100
_LABEL = 15


def _line(label: str, text: str) -> str:
    prefix = f"  {label + ':':<{_LABEL}}"
    body = textwrap.fill(
        " ".join(text.split()), _WIDTH, initial_indent=prefix, subsequent_indent=" " * len(prefix)
    )
    return body


def render_diagnosis(answer: dict[str, Any]) -> str:
    items = answer["Diagnoses"]["Diagnosis"]
    lines = [f"{answer['InvokeId']}: {answer['InvocationStatus']}"]
    if not items:
        lines.append(
            "every instance succeeded, was stopped, or is still running: nothing to diagnose"
        )
        return "\n".join(lines)
    for item in items:
        lines += [
            "",
            f"{item['InstanceId']}  {item['InvocationStatus']}  {item['ErrorCode'] or '-'}",
        ]
        if item["ErrorMessage"]:
            lines.append(_line("What happened", item["ErrorMessage"]))
        if item["ErrorInfo"]:
            lines.append(_line("Cause", item["ErrorInfo"]))
        if item["ExitCodeMeaning"]:
            lines.append(_line(f"Exit code {item['ExitCode']}", item["ExitCodeMeaning"]))
        if item["LastOutput"]:
            lines.append(f"  {'Last output:':<{_LABEL}}")
            lines += [f"    | {line}" for line in item["LastOutput"].splitlines()]
        heartbeat = item["LastHeartbeatTime"] or "never"
        state = "online" if item["AgentOnline"] else "OFFLINE"
        facts = f"{state}, last heartbeat {heartbeat}"
        if item.get("AgentVersion"):
            facts += f", version {item['AgentVersion']}"
        if item.get("AgentRunningTasks", -1) >= 0:
            facts += f", {item['AgentRunningTasks']} task(s) running then"
        lines.append(_line("Agent", facts))
        if item["RecommendedSolution"]:
            lines.append(_line("Recommended", item["RecommendedSolution"]))
    return "\n".join(lines)


def show_diagnosis(client: ApiClient, invoke_id: str, instance_id: str = "") -> int:
    params = {"InvokeId": invoke_id}
    if instance_id:
        params["InstanceId"] = instance_id
    answer = client.call("DiagnoseInvocation", params)
    print(render_diagnosis(answer))
    return 0 if not answer["Diagnoses"]["Diagnosis"] else 3
