"""``openassist send-file LOCAL --to DIR --instance mi-...``: SendFile, then wait for and show
what happened on each instance, as ``openassist run`` does for scripts."""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path
from typing import Any

from openassist.cli.api_client import ApiClient
from openassist.cli.table import render_table
from openassist.cli.waiting import wait_for_results


def send_file(client: ApiClient, args: argparse.Namespace) -> int:
    """Send the file; 0 when it arrived everywhere, 3 when not, 2 when it cannot be read."""
    local = Path(args.local)
    try:
        content = local.read_bytes()
    except OSError as error:
        print(f"openassist send-file: cannot read {local}: {error}", file=sys.stderr)
        return 2
    params = {
        "Name": args.name or local.name,
        "TargetDir": args.to,
        "Content": base64.b64encode(content).decode(),
        "ContentType": "Base64",  # any bytes travel unchanged
        "FileMode": args.mode,
        "FileOwner": args.owner,
        "FileGroup": args.group,
        "Overwrite": "true" if args.overwrite else "false",
        "Timeout": str(args.timeout),
    }
    for index, instance_id in enumerate(args.instance, start=1):
        params[f"InstanceId.{index}"] = instance_id
    invoke_id = client.call("SendFile", params)["InvokeId"]
    print(f"task {invoke_id}")
    if args.no_wait:
        return 0
    rows = wait_for_results(client, invoke_id, args.timeout + 30, progress=False, fetch=_rows)
    _print(rows)
    return 0 if rows and all(r["InvocationStatus"] == "Success" for r in rows) else 3


def _rows(client: ApiClient, invoke_id: str) -> list[dict[str, Any]]:
    answer = client.call("DescribeSendFileResults", {"InvokeId": invoke_id})
    tasks = answer["Invocations"]["Invocation"]
    return list(tasks[0]["InvokeInstances"]["InvokeInstance"]) if tasks else []


def _print(rows: list[dict[str, Any]]) -> None:
    table = [
        [
            r["InstanceId"],
            r["InvocationStatus"],
            r["ErrorCode"] or "-",
            r["FinishTime"] or r["StartTime"] or "",
        ]
        for r in rows
    ]
    print(render_table(["INSTANCE", "STATUS", "ERROR", "FINISHED"], table))
    for r in rows:
        if r["ErrorCode"] or r["ErrorInfo"]:
            print(f"{r['InstanceId']}: {r['ErrorCode']}: {r['ErrorInfo']}")
