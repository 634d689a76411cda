"""``openassist diagnose t-...``: for each failed instance, what happened and what to do."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Mapping
from typing import Any

from openassist.cli.api_client import ApiClient
from openassist.cli.outcome import UsageError, exit_code
from openassist.cli.targets import Selection, list_machines, resolve
from openassist.cli.tasks import is_file_task

_WIDTH = 100
_LABEL = 15


def _label(instance_id: str, names: Mapping[str, str]) -> str:
    name = names.get(instance_id, "")
    return f"{name} ({instance_id})" if name and name != instance_id else instance_id


def _line(label: str, text: str) -> str:
    prefix = f"  {label + ':':<{_LABEL}}"
    body = textwrap.fill(
        " ".join(text.split()), _WIDTH, initial_indent=prefix, subsequent_indent=" " * len(prefix)
    )
    return body


def render_diagnosis(answer: dict[str, Any], names: Mapping[str, str] | None = None) -> str:
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
            f"{_label(item['InstanceId'], names or {})}  {item['InvocationStatus']}  "
            f"{item['ErrorCode'] or '-'}",
        ]
        if item.get("ErrorMessage"):
            lines.append(_line("What happened", item["ErrorMessage"]))
        if item.get("ErrorInfo"):
            lines.append(_line("Cause", item["ErrorInfo"]))
        if item.get("ExitCodeMeaning"):
            lines.append(_line(f"Exit code {item['ExitCode']}", item["ExitCodeMeaning"]))
        if item.get("LastOutput"):
            lines.append(f"  {'Last output:':<{_LABEL}}")
            lines += [f"    | {line}" for line in item["LastOutput"].splitlines()]
        if "AgentOnline" in item:  # a file task's diagnosis (made here) has no agent facts
            heartbeat = item["LastHeartbeatTime"] or "never"
            state = "online" if item["AgentOnline"] else "OFFLINE"
            facts = f"{state}, last heartbeat {heartbeat}"
            if item.get("AgentVersion"):
                facts += f", version {item['AgentVersion']}"
            if item.get("AgentRunningTasks", -1) >= 0:
                facts += f", {item['AgentRunningTasks']} task(s) running then"
            lines.append(_line("Agent", facts))
        if item.get("RecommendedSolution"):
            lines.append(_line("Recommended", item["RecommendedSolution"]))
    return "\n".join(lines)


def file_task_diagnosis(client: ApiClient, invoke_id: str) -> dict[str, Any]:
    """DiagnoseInvocation's shape for a file task (``f-...``), which that action does not take:
    each refused machine's code explained from the error catalog."""
    from openassist.catalog import ENTRIES

    answer = client.call("DescribeSendFileResults", {"InvokeId": invoke_id})
    tasks = answer["Invocations"]["Invocation"]
    if not tasks:
        raise UsageError(f"no task {invoke_id}")
    items = []
    for row in tasks[0]["InvokeInstances"]["InvokeInstance"]:
        if row["InvocationStatus"] in ("Success", "Pending", "Running", "Cancelled", "Terminated"):
            continue
        entry = ENTRIES.get(row["ErrorCode"])
        items.append(
            {
                "InstanceId": row["InstanceId"],
                "InvocationStatus": row["InvocationStatus"],
                "ErrorCode": row["ErrorCode"],
                "ErrorMessage": entry.message if entry else "",
                "ErrorInfo": row["ErrorInfo"],
                "RecommendedSolution": entry.solution if entry else "",
            }
        )
    status = tasks[0]["InvocationStatus"]
    return {"InvokeId": invoke_id, "InvocationStatus": status, "Diagnoses": {"Diagnosis": items}}


def show_diagnosis(client: ApiClient, args: argparse.Namespace) -> int:
    """The diagnoses of the task (of the ``-i``/``--tag`` machines); the exit code judges the
    machines diagnosed, as ``openassist run`` would."""
    if is_file_task(args.invoke_id):
        answer = file_task_diagnosis(client, args.invoke_id)
    else:
        answer = client.call("DiagnoseInvocation", {"InvokeId": args.invoke_id})
    selection = Selection.from_args(args)
    items = answer["Diagnoses"]["Diagnosis"]
    if not selection.empty:
        wanted = {m.id for m in resolve(client, selection)}
        items = answer["Diagnoses"]["Diagnosis"] = [i for i in items if i["InstanceId"] in wanted]
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    elif args.jsonl:
        for item in items:
            print(json.dumps(item, ensure_ascii=False))
    else:
        ids = sorted({i["InstanceId"] for i in items})
        names = {m.id: m.name for m in list_machines(client, ids)} if ids else {}
        print(render_diagnosis(answer, names))
    return exit_code(items)
