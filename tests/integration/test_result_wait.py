"""WaitInvocationResults: a long poll answered when a result of the task changes after the
caller's cursor (command and file tasks), with the counts a client needs to decide to re-read."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from openassist.cli.api_client import ApiCallError, ApiClient
from openassist.cli.watch import follow
from tests.support.cluster import Agent, Cluster, wait_until


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("waited-on")


def _wait(cluster: Cluster, invoke_id: str, cursor: int, seconds: int) -> dict[str, Any]:
    return cluster.call(
        "WaitInvocationResults", InvokeId=invoke_id, Cursor=str(cursor), WaitSeconds=str(seconds)
    )


def test_a_waiting_call_is_answered_when_the_result_is_stored(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    invoke_id = cluster.run(
        f"while [ ! -e {gate} ]; do sleep 0.05; done; echo done", agent.instance_id
    )
    wait_until(lambda: cluster.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    now = _wait(cluster, invoke_id, 0, 0)
    assert now["Changed"] is True and now["Cursor"] > 0  # Pending -> Running moved it
    assert (now["InvocationStatus"], now["InstanceCount"], now["FinishedCount"]) == (
        "Running",
        1,
        0,
    )
    unchanged = _wait(cluster, invoke_id, now["Cursor"], 0)
    assert unchanged["Changed"] is False and unchanged["Cursor"] == now["Cursor"]

    answers: list[dict[str, Any]] = []
    waiter = threading.Thread(
        target=lambda: answers.append(_wait(cluster, invoke_id, now["Cursor"], 30))
    )
    waiter.start()
    try:
        gate.touch()
    finally:
        waiter.join(60)
    [answer] = answers
    assert answer["Changed"] is True and answer["Cursor"] > now["Cursor"]
    assert (answer["InvocationStatus"], answer["FinishedCount"]) == ("Success", 1)
    [row] = cluster.results(invoke_id)  # what the answer announced is there to read
    assert (row["InvocationStatus"], row["Output"]) == ("Success", "done\n")


def test_file_tasks_have_a_cursor_too(cluster: Cluster, agent: Agent, tmp_path: Path) -> None:
    sent = cluster.call(
        "SendFile",
        **{"InstanceId.1": agent.instance_id},
        Name="waited.txt",
        TargetDir=str(tmp_path),
        Content=base64.b64encode(b"x").decode(),
        ContentType="Base64",
    )
    invoke_id = sent["InvokeId"]
    cursor = 0
    for _ in range(20):  # each answer moves the cursor: bounded, never a busy loop
        answer = _wait(cluster, invoke_id, cursor, 30)
        assert answer["Changed"] is True
        cursor = answer["Cursor"]
        if answer["FinishedCount"] == 1:
            break
    assert answer["InvocationStatus"] == "Success"
    assert (tmp_path / "waited.txt").read_bytes() == b"x"


def test_bad_requests_get_their_codes(cluster: Cluster) -> None:
    with pytest.raises(ApiCallError) as unknown:
        _wait(cluster, "t-doesnotexist", 0, 0)
    assert (unknown.value.code, unknown.value.status) == ("InvalidInvokeId.NotFound", 404)
    for name, value in (("Cursor", "-1"), ("Cursor", "x"), ("WaitSeconds", "31")):
        with pytest.raises(ApiCallError) as refused:
            cluster.call("WaitInvocationResults", **{"InvokeId": "t-doesnotexist", name: value})
        assert refused.value.code == f"InvalidParameter.{name}", (name, value)
        assert refused.value.status == 400
    with pytest.raises(ApiCallError) as missing:
        cluster.call("WaitInvocationResults")
    assert missing.value.code.startswith("MissingParameter") or "InvokeId" in missing.value.message


def _wait_with_rows(client: ApiClient, invoke_id: str) -> dict[str, Any]:
    """Wait (IncludeResults) until the task's one machine has finished."""
    cursor = 0
    for _ in range(20):  # each answer moves the cursor: bounded, never a busy loop
        answer = client.call(
            "WaitInvocationResults",
            {"InvokeId": invoke_id, "Cursor": str(cursor), "WaitSeconds": "30",
             "IncludeResults": "true"},
        )  # fmt: skip
        cursor = answer["Cursor"]
        if answer["FinishedCount"] == 1:
            return answer
    raise AssertionError(f"{invoke_id} never finished")


def test_the_answer_carries_the_rows_describe_would_show(cluster: Cluster, agent: Agent) -> None:
    """IncludeResults: the result is seen in the wait's answer, no DescribeInvocationResults
    call after it; without it the answer has counts only."""
    invoke_id = cluster.run("echo 'seen at once'", agent.instance_id)
    answer = _wait_with_rows(ApiClient(cluster.credentials), invoke_id)
    assert answer["InvocationResults"]["InvocationResult"] == cluster.results(invoke_id)
    [row] = answer["InvocationResults"]["InvocationResult"]
    assert (row["InvocationStatus"], row["Output"]) == ("Success", "seen at once\n")
    assert "InvocationResults" not in _wait(cluster, invoke_id, 0, 0)


def test_rows_are_shown_only_to_a_caller_who_may_describe_them(
    cluster: Cluster, agent: Agent
) -> None:
    """A key allowed to wait but not to read results learns the counts, never the output."""
    name = "waits-only"
    statement = {"Effect": "Allow", "Action": ["ecs:WaitInvocationResults"], "Resource": ["*"]}
    cluster.call("CreateUser", UserName=name)
    document = json.dumps({"Version": "1", "Statement": [statement]})
    cluster.call("CreatePolicy", PolicyName=f"{name}-policy", PolicyDocument=document)
    cluster.call(
        "AttachPolicyToUser", PolicyType="Custom", PolicyName=f"{name}-policy", UserName=name
    )
    key = cluster.call("CreateAccessKey", UserName=name)["AccessKey"]
    waiter = ApiClient(
        cluster.credentials._replace(
            access_key_id=key["AccessKeyId"], access_key_secret=key["AccessKeySecret"]
        )
    )
    invoke_id = cluster.run("echo secret-ish", agent.instance_id)
    answer = _wait_with_rows(waiter, invoke_id)
    assert answer["InvocationStatus"] == "Success"
    assert answer["InvocationResults"]["InvocationResult"] == []
    with pytest.raises(ApiCallError) as refused:
        waiter.call("DescribeInvocationResults", {"InvokeId": invoke_id})
    assert refused.value.status == 403


class _Recording(ApiClient):
    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster.credentials)
        self.actions: list[str] = []

    def call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        self.actions.append(action)
        return super().call(action, params)


def test_the_cli_follows_a_small_task_on_wait_answers_alone(cluster: Cluster, agent: Agent) -> None:
    client = _Recording(cluster)
    invoke_id = cluster.run("echo followed", agent.instance_id)
    seen: list[list[dict[str, Any]]] = []
    [row] = follow(client, [invoke_id], 60, seen.append)
    assert (row["InvocationStatus"], row["Output"]) == ("Success", "followed\n")
    assert set(client.actions) == {"WaitInvocationResults"}  # no DescribeInvocationResults
    assert seen[-1] == [row]
