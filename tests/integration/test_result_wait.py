"""WaitInvocationResults: a long poll answered when a result of the task changes after the
caller's cursor (command and file tasks), with the counts a client needs to decide to re-read."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

import pytest

from openassist.cli.api_client import ApiCallError
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
