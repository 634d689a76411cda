"""The official Cloud Assistant agent itself (aliyun_assist_client, built unmodified outside
this repository) against OpenAssist: the cases of issue 14 end to end.

Set ``OFFICIAL_AGENT_BINARY`` to the built ``aliyun-service`` binary (docs/agent-protocol.md
§10 says how to build it; it never enters the repository); without it these tests are skipped.
The agent runs as root in the foreground (``--common``) from a private install directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Cluster, wait_until
from tests.support.official_agent import BINARY, OfficialAgent, official_agent

pytestmark = pytest.mark.skipif(
    not BINARY or os.geteuid() != 0, reason="needs OFFICIAL_AGENT_BINARY and root"
)


cluster = module_cluster(
    "official", {"OPENASSIST_MIN_CRON_INTERVAL_S": "1", "OPENASSIST_MIN_RATE_INTERVAL_S": "1"}
)


@pytest.fixture
def official(cluster: Cluster, tmp_path: Path) -> Iterator[OfficialAgent]:
    with official_agent(cluster, tmp_path) as agent:
        yield agent


def _history(cluster: Cluster, invoke_id: str) -> list[dict[str, Any]]:
    answer = cluster.call(
        "DescribeInvocationResults",
        InvokeId=invoke_id,
        IncludeHistory="true",
        ContentEncoding="PlainText",
        MaxResults="50",
    )
    return list(answer["Invocation"]["InvocationResults"]["InvocationResult"])


def test_a_missing_user_is_account_not_exists(cluster: Cluster, official: OfficialAgent) -> None:
    invoke_id = cluster.run("id", official.instance_id, Username="no-such-user-4242")
    [result] = cluster.wait_final(invoke_id, timeout_s=60)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", "AccountNotExists")
    assert "UserInvalid_no-such-user-4242" in result["ErrorInfo"]


def test_a_restart_ends_the_running_task_at_once(
    cluster: Cluster, official: OfficialAgent, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    invoke_id = cluster.run(f"touch {marker}; sleep 300", official.instance_id, Timeout="600")
    wait_until(marker.exists, 60, what="the script to start")
    wait_until(lambda: cluster.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    official.kill()
    official.start()  # its first fetch says reason=startup
    [result] = cluster.wait_final(invoke_id, timeout_s=60)  # not Timeout + 60 s
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ClientRestarted")


def test_stopping_a_periodic_task_keeps_repeats_equal_to_the_history(
    cluster: Cluster, official: OfficialAgent
) -> None:
    invoke_id = cluster.run(
        "echo tick",
        official.instance_id,
        RepeatMode="Period",
        Frequency="0/2 * * * * ?",
        Timeout="1",
    )
    wait_until(lambda: len(_history(cluster, invoke_id)) >= 3, 60, what="three runs")
    cluster.call("StopInvocation", InvokeId=invoke_id)
    [result] = cluster.wait_final(invoke_id, timeout_s=60)
    assert result["Repeats"] == len(_history(cluster, invoke_id))
