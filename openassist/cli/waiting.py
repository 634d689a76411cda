"""Waiting for a task: poll its per-instance rows until every one is final."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from openassist.cli.api_client import ApiClient

FINAL = {"Success", "Failed", "Invalid", "Aborted", "Error", "Timeout", "Cancelled", "Terminated"}


def fetch_results(client: ApiClient, invoke_id: str) -> list[dict[str, Any]]:
    params = {"InvokeId": invoke_id, "ContentEncoding": "PlainText", "MaxResults": "50"}
    results: list[dict[str, Any]] = []
    while True:
        answer = client.call("DescribeInvocationResults", params)["Invocation"]
        results += answer["InvocationResults"]["InvocationResult"]
        if not answer.get("NextToken"):
            return results
        params["NextToken"] = answer["NextToken"]


Fetch = Callable[[ApiClient, str], list[dict[str, Any]]]


def wait_for_results(
    client: ApiClient,
    invoke_id: str,
    deadline_s: float,
    progress: bool = True,
    fetch: Fetch = fetch_results,
) -> list[dict[str, Any]]:
    """Poll until every instance is final or the deadline passes; shows progress on stderr.
    ``fetch`` reads the per-instance rows (a command task's by default)."""
    delay, end = 0.02, time.monotonic() + deadline_s
    while True:
        results = fetch(client, invoke_id)
        done = sum(r["InvocationStatus"] in FINAL for r in results)
        if progress and sys.stderr.isatty():
            print(f"\r{invoke_id}: {done}/{len(results)} finished", end="", file=sys.stderr)
        if (results and done == len(results)) or time.monotonic() > end:
            if progress and sys.stderr.isatty():
                print(file=sys.stderr)
            return results
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
