"""``openassist send-file``: a local file reaches the instances with its bytes, mode and owner,
and the per-instance outcome (with the code of a refusal) is printed, as ``openassist run``
does."""

from __future__ import annotations

import json
import pwd
import stat
from pathlib import Path

import pytest

from openassist.catalog import lookup
from tests.support.cluster import Agent, Cluster


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("cli-receiver")


def test_send_file_delivers_bytes_mode_and_owner(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    local = tmp_path / "local.conf"
    local.write_bytes(b"key = value\n\x00\xff binary too\n")
    target = tmp_path / "etc" / "app"
    done = cluster.cli(
        "send-file",
        str(local),
        "--to",
        f"{target}/",
        "--instance",
        agent.instance_id,
        "--mode",
        "0640",
        "--owner",
        "nobody",
    )
    assert done.returncode == 0, done.stderr
    written = target / "local.conf"
    assert written.read_bytes() == local.read_bytes()
    assert stat.S_IMODE(written.stat().st_mode) == 0o640
    assert written.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    lines = done.stdout.splitlines()
    assert lines[0].startswith("task f-") and lines[0].endswith("(1 machine)")
    assert lines[1].startswith("cli-receiver: Success")
    assert lines[-1] == "1 machine: 1 succeeded (cli-receiver)"


def test_send_file_shows_the_refusal_of_each_instance(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    (tmp_path / "motd").write_text("old\n")
    local = tmp_path / "new-motd"
    local.write_text("new\n")
    args = ["send-file", str(local), "--to", str(tmp_path), "--name", "motd", "-i"]
    done = cluster.cli(*args, agent.instance_id)
    assert done.returncode == 2  # the machine was reached and refused: a failure
    assert (tmp_path / "motd").read_text() == "old\n"
    assert "cli-receiver: Invalid, FileAlreadyExists: " in done.stdout
    task = done.stdout.split()[1]
    why = cluster.cli("diagnose", task)
    assert why.returncode == 2, why.stderr
    assert f"cli-receiver ({agent.instance_id})  Invalid  FileAlreadyExists" in why.stdout
    assert lookup("FileAlreadyExists").solution.split()[0] in why.stdout
    no_output = cluster.cli("output", task, "-i", agent.instance_id)
    assert no_output.returncode == 1 and "is a file task: it has no output" in no_output.stderr
    as_json = cluster.cli(
        "send-file", str(local), "--to", str(tmp_path), "-i", "cli-receiver", "--json"
    )
    assert as_json.returncode == 2
    document = json.loads(as_json.stdout)
    api = cluster.call("DescribeSendFileResults", InvokeId=document["InvokeId"])
    [api_row] = api["Invocations"]["Invocation"][0]["InvokeInstances"]["InvokeInstance"]
    [row] = document["InvokeInstances"]
    assert row.pop("InstanceName") == "cli-receiver" and row == api_row
    replaced = cluster.cli(*args, agent.instance_id, "--overwrite")
    assert replaced.returncode == 0, replaced.stdout
    assert (tmp_path / "motd").read_text() == "new\n"


def test_send_file_reports_an_unreadable_file_and_api_refusals(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    missing = cluster.cli("send-file", str(tmp_path / "absent"), "--to", "/tmp", "-i", "mi-x")
    assert missing.returncode == 1  # a usage error, as every command reports one
    assert "cannot read" in missing.stderr
    local = tmp_path / "f"
    local.write_text("x")
    relative = cluster.cli("send-file", str(local), "--to", "etc", "-i", agent.instance_id)
    assert relative.returncode == 1
    assert "FileTargetDir.Invalid" in relative.stderr
