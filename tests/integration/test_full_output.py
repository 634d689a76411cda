"""Full output: kept up to the server's cap beyond the 24 KB tail, read in slices, followed live."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Agent, Cluster, wait_until

LINES = 100_000  # 1,000,000 bytes: far past the 24 KB tail
SCRIPT = f"i=0; while [ $i -lt {LINES} ]; do printf '%09d\\n' $i; i=$((i+1)); done"
EXPECTED = "".join(f"{i:09d}\n" for i in range(LINES)).encode()


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("talkative")


def _read_all(cluster: Cluster, invoke_id: str, instance_id: str) -> tuple[bytes, dict[str, Any]]:
    data, offset = b"", 0
    for _ in range(50):  # bounded: 1 MB in slices of at most 256 KB
        answer = cluster.call(
            "DescribeInvocationFullOutput",
            InvokeId=invoke_id,
            InstanceId=instance_id,
            Offset=str(offset),
            MaxBytes="262144",
        )
        data += base64.b64decode(answer["Output"])
        offset = answer["NextOffset"]
        if answer["Finished"]:
            return data, answer
    raise AssertionError("the output never finished")


def test_full_output_is_kept_beyond_the_tail(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run(SCRIPT, agent.instance_id, Timeout="300")
    [result] = cluster.wait_final(invoke_id, timeout_s=300)
    assert result["Output"].encode() == EXPECTED[-24576:]
    assert result["Dropped"] == len(EXPECTED) - 24576
    data, answer = _read_all(cluster, invoke_id, agent.instance_id)
    assert data == EXPECTED
    assert answer["OutputSize"] == len(EXPECTED) and answer["Truncated"] is False


def test_cli_follows_a_running_script(cluster: Cluster, agent: Agent, tmp_path: Path) -> None:
    release = tmp_path / "release"
    invoke_id = cluster.run(
        f"echo first; while [ ! -e {release} ]; do sleep 0.05; done; echo last",
        agent.instance_id,
    )
    credentials = tmp_path / "credentials.json"
    credentials.write_text(
        json.dumps(
            {
                "AccessKeyId": cluster.credentials.access_key_id,
                "AccessKeySecret": cluster.credentials.access_key_secret,
                "Endpoint": cluster.endpoint,
                "RegionId": "local",
            }
        )
    )
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openassist.cli.main",
            "output",
            invoke_id,
            "--instance",
            agent.instance_id,
            "--follow",
            "--credentials",
            str(credentials),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == b"first\n"  # shown while the script still runs
        [result] = cluster.results(invoke_id)
        assert result["InvocationStatus"] == "Running"
        release.touch()
        rest, _ = follower.communicate(timeout=60)
    finally:
        follower.kill()
    assert rest == b"last\n"
    assert follower.returncode == 0


def test_output_past_the_cap_is_marked_truncated(tmp_path: Path) -> None:
    with Cluster.start(tmp_path, env={"OPENASSIST_FULL_OUTPUT_CAP": "1000"}) as small:
        agent = small.new_agent("capped")
        invoke_id = small.run("head -c 5000 /dev/zero | tr '\\0' x", agent.instance_id)
        small.wait_final(invoke_id)
        wait_until(lambda: _read_all(small, invoke_id, agent.instance_id)[1]["Finished"], 10)
        data, answer = _read_all(small, invoke_id, agent.instance_id)
    assert data == b"x" * 1000
    assert answer["Truncated"] is True and answer["OutputSize"] == 1000
    assert answer["ProducedSize"] == 5000
