"""Rollouts of SendFile (README, "Rollouts"): MaxConcurrency, MaxErrors, BatchWait and
DeliveryDeadline with the rules and codes of RunCommand, across real agents. The legacy official
SDK sends the extra parameters (its request classes take any query parameter); the others are
raw signed calls."""

from __future__ import annotations

import itertools
import json
import os
import pwd
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.SendFileRequest import SendFileRequest

from openassist.cli.api_client import ApiCallError
from tests.e2e.test_official_sdks import legacy_client, local, without_proxies
from tests.support.cluster import Agent, Cluster, wait_until

__all__ = ["without_proxies"]  # the autouse fixture applies here too

TARGETS = 4
FINAL = {"Success", "Failed", "Invalid", "Aborted", "Error", "Timeout", "Cancelled", "Terminated"}


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> list[Agent]:
    return [cluster.new_agent(f"file-rollout-{n}") for n in range(TARGETS)]


def _targets(agents: list[Agent]) -> dict[str, str]:
    return {f"InstanceId.{n}": a.instance_id for n, a in enumerate(agents, start=1)}


def _owner() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def _send(cluster: Cluster, agents: list[Agent], target_dir: Path, **params: str) -> str:
    answer = cluster.call(
        "SendFile",
        Name="app.conf",
        TargetDir=str(target_dir),
        Content="v2\n",
        FileOwner=_owner(),
        FileGroup=_owner(),
        **_targets(agents),
        **params,
    )
    return str(answer["InvokeId"])


def _task(cluster: Cluster, invoke_id: str) -> dict[str, Any]:
    [task] = cluster.call("DescribeSendFileResults", InvokeId=invoke_id)["Invocations"][
        "Invocation"
    ]
    return dict(task)


def _final(cluster: Cluster, invoke_id: str, timeout_s: float = 120) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        task = _task(cluster, invoke_id)
        rows = task["InvokeInstances"]["InvokeInstance"]
        return task if all(r["InvocationStatus"] in FINAL for r in rows) else None

    return dict(wait_until(done, timeout_s, what=f"{invoke_id} to end"))


def _rows(task: dict[str, Any]) -> list[dict[str, Any]]:
    return list(task["InvokeInstances"]["InvokeInstance"])


def test_the_official_sdk_sends_a_file_one_target_at_a_time_until_the_budget_is_spent(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    # One directory for all: the first target writes the file, the next finds it there and
    # fails, Invalid (Overwrite false), which spends MaxErrors=0; the last two are Cancelled.
    target_dir = tmp_path / "delivered"
    request = local(SendFileRequest())
    request.set_InstanceIds([a.instance_id for a in fleet])
    request.set_Name("app.conf")
    request.set_TargetDir(str(target_dir))
    request.set_Content("v2\n")
    request.set_FileOwner(_owner())
    request.set_FileGroup(_owner())
    request.set_Overwrite(False)
    request.add_query_param("MaxConcurrency", "1")
    request.add_query_param("MaxErrors", "0")
    client: AcsClient = legacy_client(cluster)
    invoke_id = str(json.loads(client.do_action_with_exception(request))["InvokeId"])
    task = _final(cluster, invoke_id)
    statuses = sorted(r["InvocationStatus"] for r in _rows(task))
    assert statuses == ["Cancelled", "Cancelled", "Invalid", "Success"]  # Invalid: it exists
    for row in _rows(task):
        if row["InvocationStatus"] == "Cancelled":
            assert row["ErrorCode"] == "ErrorBudgetSpent"
            assert "more than MaxErrors=0 allows" in row["ErrorInfo"]
            assert row["StartTime"] in ("", None)
    assert (task["MaxConcurrency"], task["MaxErrors"]) == ("1", "0")
    assert (task["TargetsWaiting"], task["TargetsRunning"], task["TargetsDone"]) == (0, 0, 4)
    assert "1 target(s) failed" in task["StopReason"]
    assert (target_dir / "app.conf").read_text() == "v2\n"


def test_batch_wait_spaces_the_targets(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    # One at a time, a freed slot empty for 1 s: the server's finish times (whole seconds, so
    # each at least 1 apart) are spaced by it.
    invoke_id = _send(
        cluster, fleet[:3], tmp_path, Overwrite="true", MaxConcurrency="1", BatchWait="1"
    )
    task = _final(cluster, invoke_id)
    assert [r["InvocationStatus"] for r in _rows(task)] == ["Success"] * 3
    finished = sorted(_seconds(r["FinishTime"]) for r in _rows(task))
    for previous, following in itertools.pairwise(finished):
        assert following - previous >= 1.0
    assert (task["MaxConcurrency"], task["BatchWait"], task["TargetsDone"]) == ("1", 1, 3)


def _seconds(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def test_an_offline_target_gets_the_file_when_it_comes_back_before_the_deadline(
    cluster: Cluster, tmp_path: Path
) -> None:
    agent = cluster.new_agent("file-comes-back")
    agent.stop()
    invoke_id = _send(cluster, [agent], tmp_path, DeliveryDeadline="600")
    [waiting] = _rows(_task(cluster, invoke_id))
    assert (waiting["InvocationStatus"], waiting["ErrorCode"]) == ("Pending", "")
    assert _task(cluster, invoke_id)["DeliveryDeadline"].endswith("Z")
    cluster.start_agent(agent)
    [row] = _rows(_final(cluster, invoke_id, 60))
    assert row["InvocationStatus"] == "Success"
    assert (tmp_path / "app.conf").read_text() == "v2\n"


def test_a_target_back_after_the_deadline_never_gets_the_file(
    cluster: Cluster, tmp_path: Path
) -> None:
    agent = cluster.new_agent("file-too-late")
    agent.stop()
    invoke_id = _send(cluster, [agent], tmp_path, DeliveryDeadline="2")
    [row] = _rows(_final(cluster, invoke_id, 60))  # the sweeper ends it past the deadline
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Aborted", "ClientNotRunning")
    assert "DeliveryDeadline" in row["ErrorInfo"]
    cluster.start_agent(agent)
    [later] = cluster.wait_final(cluster.run("true", agent.instance_id), timeout_s=60)
    assert later["InvocationStatus"] == "Success"  # it fetched its task list since
    assert not (tmp_path / "app.conf").exists()


@pytest.mark.parametrize(
    "name, value, code",
    [
        ("MaxConcurrency", "0", "InvalidRolloutLimit.Zero"),
        ("MaxConcurrency", "101%", "InvalidRolloutLimit.PercentTooLarge"),
        ("MaxConcurrency", "-3", "InvalidRolloutLimit.Negative"),
        ("MaxErrors", "ten", "InvalidRolloutLimit.Malformed"),
        ("BatchWait", "3601", "InvalidParameter.BatchWait"),
        ("DeliveryDeadline", "soon", "InvalidDeliveryDeadline.Malformed"),
        ("DeliveryDeadline", "604801", "InvalidDeliveryDeadline.OutOfRange"),
    ],
)
def test_bad_limits_get_the_codes_run_command_gives(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path, name: str, value: str, code: str
) -> None:
    given = {name: value, **({"MaxConcurrency": "1"} if name == "BatchWait" else {})}
    with pytest.raises(ApiCallError) as refused:
        _send(cluster, fleet[:1], tmp_path, **given)
    assert (refused.value.status, refused.value.code) == (400, code)
    assert name in refused.value.message


def test_batch_wait_without_max_concurrency_is_refused(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    with pytest.raises(ApiCallError) as refused:
        _send(cluster, fleet[:1], tmp_path, BatchWait="5")
    assert refused.value.code == "InvalidRolloutLimit.BatchWaitWithoutConcurrency"


def test_a_file_task_without_limits_shows_no_rollout_fields(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    task = _final(cluster, _send(cluster, fleet[:1], tmp_path, Overwrite="true"), 60)
    assert "MaxConcurrency" not in task and "DeliveryDeadline" not in task
