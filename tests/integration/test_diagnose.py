"""A failed task explains itself: code, cause, exit code meaning, last output, agent, the fix."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from openassist import __version__
from openassist.catalog import lookup
from tests.support.cluster import Agent, Cluster


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("diagnosed")


def test_command_not_found_is_explained(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run("echo before; no-such-command-here", agent.instance_id)
    cluster.wait_final(invoke_id)
    answer = cluster.call("DiagnoseInvocation", InvokeId=invoke_id)
    [item] = answer["Diagnoses"]["Diagnosis"]
    assert item["ErrorCode"] == "ExitCodeNonzero"
    assert item["ExitCode"] == 127
    assert "not found" in item["ExitCodeMeaning"]
    assert "no-such-command-here" in item["LastOutput"]
    assert item["AgentOnline"] is True and item["LastHeartbeatTime"]
    # What the agent told in its last heartbeat: its version, load and capabilities.
    assert item["AgentVersion"] == f"openassist-{__version__}"
    assert item["AgentRunningTasks"] >= 0 and "send-file" in item["AgentCapabilities"]
    assert item["RecommendedSolution"] == lookup("ExitCodeNonzero").solution


def test_cli_diagnose_prints_cause_and_solution(cluster: Cluster, agent: Agent) -> None:
    silent = cluster.register_agent("offline")
    invoke_id = cluster.run("sleep 5", agent.instance_id, silent.instance_id, Timeout="1")
    cluster.wait_final(invoke_id, timeout_s=30)
    credentials = cluster.root / "cli-credentials.json"
    credentials.write_text(
        json.dumps(
            {
                "AccessKeyId": cluster.credentials.access_key_id,
                "AccessKeySecret": cluster.credentials.access_key_secret,
                "Endpoint": cluster.endpoint,
                "RegionId": cluster.credentials.region_id,
            }
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openassist.cli.main",
            "diagnose",
            invoke_id,
            "--credentials",
            str(credentials),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    text = result.stdout
    assert "ExecutionTimeout" in text and "timeout of 1 s" in text
    assert "killed at the timeout" in text and "chose exit code" not in text
    assert "ClientNotRunning" in text and "never connected" in text
    assert "OFFLINE, last heartbeat never" in text
    first_words = " ".join(lookup("ClientNotRunning").solution.split()[:4])
    assert first_words in " ".join(text.split())


def test_unknown_task_is_refused(cluster: Cluster) -> None:
    from openassist.cli.api_client import ApiCallError

    with pytest.raises(ApiCallError) as error:
        cluster.call("DiagnoseInvocation", InvokeId="t-doesnotexist")
    assert (error.value.status, error.value.code) == (404, "InvalidInvokeId.NotFound")
