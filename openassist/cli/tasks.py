"""The per-machine rows of a task, whichever kind: a command task (``t-...``, the rows of
DescribeInvocationResults) or a file task (``f-...``, DescribeSendFileResults' InvokeInstance)."""

from __future__ import annotations

from openassist.cli.api_client import ApiClient

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any

Row = dict[str, "Any"]


def is_file_task(invoke_id: str) -> bool:
    return invoke_id.startswith("f-")


def rows_key(invoke_id: str) -> str:
    """Where the API puts the rows of this kind of task, for ``--json`` documents."""
    return "InvokeInstances" if is_file_task(invoke_id) else "InvocationResults"


def command_rows(client: ApiClient, invoke_id: str) -> list[Row]:
    params = {"InvokeId": invoke_id, "ContentEncoding": "PlainText", "MaxResults": "50"}
    rows: list[Row] = []
    while True:
        answer = client.call("DescribeInvocationResults", params)["Invocation"]
        rows += answer["InvocationResults"]["InvocationResult"]
        if not answer.get("NextToken"):
            return rows
        params["NextToken"] = answer["NextToken"]


def file_rows(client: ApiClient, invoke_id: str) -> list[Row]:
    answer = client.call("DescribeSendFileResults", {"InvokeId": invoke_id})
    tasks = answer["Invocations"]["Invocation"]
    return list(tasks[0]["InvokeInstances"]["InvokeInstance"]) if tasks else []


def task_rows(client: ApiClient, invoke_id: str) -> list[Row]:
    """Every machine's row of the task; empty if there is no such task."""
    return (
        file_rows(client, invoke_id) if is_file_task(invoke_id) else command_rows(client, invoke_id)
    )
