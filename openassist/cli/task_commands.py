"""``openassist run | send-file | invocations | results | ecs``: friendly views over the RPC API."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Sequence
from typing import Any

from openassist.cli.api_client import ApiCallError, ApiClient, ApiUnreachable
from openassist.cli.credentials import Choice, CredentialsNotFound, resolve
from openassist.cli.diagnosis import show_diagnosis
from openassist.cli.file_command import send_file
from openassist.cli.output_command import show_output
from openassist.cli.table import render_table
from openassist.cli.waiting import FINAL, fetch_results, wait_for_results


def client_for(args: argparse.Namespace) -> ApiClient:
    """The API client the command line asks for (``--credentials``, ``--profile``,
    ``--endpoint``, ``--ca``); raises CredentialsNotFound or ValueError."""
    choice = Choice(
        credentials_file=args.credentials or "",
        profile=args.profile or "",
        endpoint=args.endpoint or "",
        ca_file=args.ca or "",
    )
    return ApiClient(resolve(choice))


def run_task_command(args: argparse.Namespace, extra: Sequence[str]) -> int:
    try:
        client = client_for(args)
    except (CredentialsNotFound, ValueError) as error:
        print(f"openassist: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "run":
            return _run(client, args)
        if args.command == "send-file":
            return send_file(client, args)
        if args.command == "invocations":
            return _invocations(client, args)
        if args.command == "results":
            return _show_results(client, args.invoke_id)
        if args.command == "output":
            return show_output(client, args.invoke_id, args.instance, args.follow)
        if args.command == "diagnose":
            return show_diagnosis(client, args.invoke_id, args.instance)
        return _ecs(client, args.action, extra)
    except ApiCallError as error:
        print(f"openassist: {error}", file=sys.stderr)
        return 1
    except ApiUnreachable as error:
        print(f"openassist: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0  # the reader of our output went away (``| head``): nothing to say


def print_results(results: list[dict[str, Any]]) -> None:
    rows = [
        [
            r["InstanceId"],
            r["InvocationStatus"],
            str(r["ExitCode"]) if r["InvocationStatus"] in FINAL else "",
            r["ErrorCode"] or "-",
            r["FinishedTime"] or r["StartTime"] or "",
        ]
        for r in results
    ]
    print(render_table(["INSTANCE", "STATUS", "EXIT", "ERROR", "FINISHED"], rows))
    for r in results:
        output = r.get("Output", "")
        print(
            f"\n--- {r['InstanceId']} output ({len(output.encode())} bytes"
            f"{', ' + str(r['Dropped']) + ' earlier bytes dropped' if r['Dropped'] else ''}) ---"
        )
        print(output.rstrip("\n") if output else "(no output)")
        if r["ErrorInfo"]:
            print(f"error: {r['ErrorCode']}: {r['ErrorInfo']}")


def _run(client: ApiClient, args: argparse.Namespace) -> int:
    params = {"Type": "RunShellScript", "CommandContent": args.script, "Timeout": str(args.timeout)}
    for index, instance_id in enumerate(args.instance, start=1):
        params[f"InstanceId.{index}"] = instance_id
    if args.workdir:
        params["WorkingDir"] = args.workdir
    if args.user:
        params["Username"] = args.user
    if args.frequency:
        params["Frequency"] = args.frequency
    if args.container_name:
        params["ContainerName"] = args.container_name
    if args.container_id:
        params["ContainerId"] = args.container_id
    invoke_id = client.call("RunCommand", params)["InvokeId"]
    print(f"task {invoke_id}")
    if args.frequency:  # a schedule: its runs come later; see `openassist invocations`
        return 0
    if args.no_wait:
        return 0
    results = wait_for_results(client, invoke_id, args.timeout + 30)
    print_results(results)
    return 0 if all(r["InvocationStatus"] == "Success" for r in results) else 3


def _invocations(client: ApiClient, args: argparse.Namespace) -> int:
    params = {"MaxResults": str(min(max(args.limit, 1), 50))}
    if args.status:
        params["InvokeStatus"] = args.status
    answer = client.call("DescribeInvocations", params)
    rows = []
    for task in answer["Invocations"]["Invocation"]:
        instances = task["InvokeInstances"]["InvokeInstance"]
        content = base64.b64decode(task["CommandContent"]).decode("utf-8", "replace")
        next_runs = sorted(i["NextRunTime"] for i in instances if i.get("NextRunTime"))
        rows.append(
            [
                task["InvokeId"],
                task["InvocationStatus"],
                str(len(instances)),
                task["RepeatMode"],
                str(sum(i["Repeats"] for i in instances)),
                next_runs[0] if next_runs else "-",
                task["CreationTime"],
                content.splitlines()[0][:40] if content else "",
            ]
        )
    headers = ["INVOKE ID", "STATUS", "INSTANCES", "REPEAT", "RUNS", "NEXT RUN", "CREATED"]
    print(render_table([*headers, "COMMAND"], rows))
    return 0


def _show_results(client: ApiClient, invoke_id: str) -> int:
    results = fetch_results(client, invoke_id)
    if not results:
        print(f"no results for {invoke_id}", file=sys.stderr)
        return 1
    print_results(results)
    return 0


def _ecs(client: ApiClient, action: str, extra: Sequence[str]) -> int:
    """``--Name value`` pairs become parameters, as in the vendor's CLI."""
    params: dict[str, str] = {}
    items = list(extra)
    while items:
        name = items.pop(0)
        if not name.startswith("--") or not items:
            print(f"openassist ecs: expected --Name value pairs, got {name!r}", file=sys.stderr)
            return 2
        params[name[2:]] = items.pop(0)
    region = params.pop("RegionId", client.region_id)
    answer = client.call(action, {"RegionId": region, **params})
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0
