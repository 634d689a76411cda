"""``openassist invocations`` (command and file tasks, newest first) and ``openassist
instances`` (machines with name, id, online, last heartbeat, agent version, OS and tags)."""

from __future__ import annotations

import argparse
import base64
import json
from typing import Any

from openassist.cli.api_client import ApiClient
from openassist.cli.outcome import ExitCode
from openassist.cli.table import render_table
from openassist.cli.targets import Machine, Selection, list_machines, resolve


def _emit(args: argparse.Namespace, key: str, items: list[dict[str, Any]]) -> bool:
    """Print ``items`` as --json / --jsonl asks; False when text was asked for."""
    if args.json:
        print(json.dumps({key: items}, indent=2, ensure_ascii=False))
    elif args.jsonl:
        for item in items:
            print(json.dumps(item, ensure_ascii=False))
    return bool(args.json or args.jsonl)


def _command_row(task: dict[str, Any]) -> list[str]:
    instances = task["InvokeInstances"]["InvokeInstance"]
    content = base64.b64decode(task["CommandContent"]).decode("utf-8", "replace")
    next_runs = sorted(i["NextRunTime"] for i in instances if i.get("NextRunTime"))
    return [
        task["InvokeId"],
        "command",
        task["InvocationStatus"],
        str(len(instances)),
        task["RepeatMode"],
        str(sum(i["Repeats"] for i in instances)),
        next_runs[0] if next_runs else "-",
        task["CreationTime"],
        task.get("InvokedBy") or "-",
        content.splitlines()[0][:40] if content.strip() else "",
    ]


def _file_row(task: dict[str, Any]) -> list[str]:
    instances = task["InvokeInstances"]["InvokeInstance"]
    target = f"{task['TargetDir'].rstrip('/')}/{task['Name']}"
    return [
        task["InvokeId"],
        "file",
        task["InvocationStatus"],
        str(len(instances)),
        "Once",
        "-",
        "-",
        task["CreationTime"],
        task.get("InvokedBy") or "-",
        f"send {target}"[:40],
    ]


def invocations(client: ApiClient, args: argparse.Namespace) -> int:
    limit = min(max(args.limit, 1), 50)
    commands: dict[str, str] = {"MaxResults": str(limit)}
    files: dict[str, str] = {"MaxResults": str(limit)}
    if args.status:
        commands["InvokeStatus"], files["InvocationStatus"] = args.status, args.status
    tasks = client.call("DescribeInvocations", commands)["Invocations"]["Invocation"]
    tasks += client.call("DescribeSendFileResults", files)["Invocations"]["Invocation"]
    tasks.sort(key=lambda t: (t["CreationTime"], t["InvokeId"]), reverse=True)
    tasks = tasks[:limit]
    if _emit(args, "Invocations", tasks):
        return ExitCode.OK
    rows = [_file_row(t) if t["InvokeId"].startswith("f-") else _command_row(t) for t in tasks]
    headers = ["INVOKE ID", "TYPE", "STATUS", "INSTANCES", "REPEAT", "RUNS", "NEXT RUN"]
    print(render_table([*headers, "CREATED", "BY", "COMMAND"], rows))
    return ExitCode.OK


def _heartbeats(client: ApiClient, machines: list[Machine]) -> dict[str, str]:
    """Instance id -> LastHeartbeatTime (DescribeCloudAssistantStatus, 100 ids a call)."""
    seen: dict[str, str] = {}
    ids = [m.id for m in machines]
    for start in range(0, len(ids), 100):
        params = {f"InstanceId.{n}": i for n, i in enumerate(ids[start : start + 100], start=1)}
        answer = client.call("DescribeCloudAssistantStatus", params)
        for item in answer["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]:
            seen[item["InstanceId"]] = item["LastHeartbeatTime"]
    return seen


def instances(client: ApiClient, args: argparse.Namespace) -> int:
    selection = Selection.from_args(args)
    machines = list_machines(client) if selection.empty else resolve(client, selection)
    machines.sort(key=lambda m: (m.name, m.id))
    heartbeats = _heartbeats(client, machines)
    items = [{**m.fields, "LastHeartbeatTime": heartbeats.get(m.id, "")} for m in machines]
    if _emit(args, "Instances", items):
        return ExitCode.OK
    rows = [
        [
            m.name,
            m.id,
            "yes" if m.fields["Connected"] else "no",
            heartbeats.get(m.id, "") or "never",
            m.fields["AgentVersion"] or "-",
            f"{m.fields['OsType']} {m.fields['OsVersion']}".strip() or "-",
            ",".join(f"{t['TagKey']}={t['TagValue']}" for t in m.fields["Tags"]) or "-",
        ]
        for m in machines
    ]
    headers = ["NAME", "ID", "ONLINE", "LAST HEARTBEAT", "AGENT", "OS", "TAGS"]
    print(render_table(headers, rows))
    return ExitCode.OK
