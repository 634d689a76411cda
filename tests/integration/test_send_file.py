"""SendFile: the file arrives with its content, mode and owner, atomically; every refusal has
its code, at the API or on the instance."""

from __future__ import annotations

import base64
import pwd
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster, wait_until

FINAL = {"Success", "Failed", "Invalid", "Aborted", "Error", "Timeout"}


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("receiver")


def _send(cluster: Cluster, agent: Agent, **params: str) -> dict[str, Any]:
    invoke_id = cluster.call("SendFile", **{"InstanceId.1": agent.instance_id, **params})[
        "InvokeId"
    ]
    assert invoke_id.startswith("f-")

    def final() -> dict[str, Any] | None:
        answer = cluster.call("DescribeSendFileResults", InvokeId=invoke_id)
        [task] = answer["Invocations"]["Invocation"]
        row = task["InvokeInstances"]["InvokeInstance"][0]
        return task if row["InvocationStatus"] in FINAL else None

    return dict(wait_until(final, 30, what=f"{invoke_id} to finish"))


def test_file_arrives_with_content_mode_and_owner(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "dir"
    task = _send(
        cluster,
        agent,
        Name="app.conf",
        TargetDir=str(target),
        Content="key = 值\n",
        FileMode="0640",
        FileOwner="nobody",
    )
    row = task["InvokeInstances"]["InvokeInstance"][0]
    assert (task["InvocationStatus"], row["InvocationStatus"]) == ("Success", "Success")
    written = target / "app.conf"
    assert written.read_text() == "key = 值\n"
    assert stat.S_IMODE(written.stat().st_mode) == 0o640
    assert written.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    assert base64.b64decode(task["Content"]).decode() == "key = 值\n"
    assert (task["Overwrite"], task["VmCount"], task["FileMode"]) == ("false", 1, "0640")
    assert [p.name for p in target.iterdir()] == ["app.conf"]  # no temporary file left


def test_existing_file_needs_overwrite(cluster: Cluster, agent: Agent, tmp_path: Path) -> None:
    (tmp_path / "motd").write_text("old\n")
    task = _send(cluster, agent, Name="motd", TargetDir=str(tmp_path), Content="new\n")
    row = task["InvokeInstances"]["InvokeInstance"][0]
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Invalid", "FileAlreadyExists")
    assert (tmp_path / "motd").read_text() == "old\n"
    encoded = base64.b64encode(b"new\n").decode()
    task = _send(
        cluster,
        agent,
        Name="motd",
        TargetDir=str(tmp_path),
        Content=encoded,
        ContentType="Base64",
        Overwrite="true",
    )
    assert task["InvocationStatus"] == "Success"
    assert (tmp_path / "motd").read_text() == "new\n"


def test_unknown_group_is_reported(cluster: Cluster, agent: Agent, tmp_path: Path) -> None:
    task = _send(
        cluster,
        agent,
        Name="x",
        TargetDir=str(tmp_path),
        Content="x",
        FileGroup="no-such-group-here",
    )
    row = task["InvokeInstances"]["InvokeInstance"][0]
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Invalid", "UserGroupNotExists")
    assert "no-such-group-here" in row["ErrorInfo"]
    assert not (tmp_path / "x").exists()


def test_target_under_a_file_cannot_be_created(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("")
    task = _send(cluster, agent, Name="x", TargetDir=str(blocker / "sub"), Content="x")
    row = task["InvokeInstances"]["InvokeInstance"][0]
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Failed", "FilePathInvalid")


def test_api_refuses_bad_send_file_requests(cluster: Cluster, agent: Agent) -> None:
    base = {"InstanceId.1": agent.instance_id, "Name": "n", "TargetDir": "/tmp", "Content": "x"}
    cases = [
        ({"FileMode": "999"}, 400, "FileMode.Invalid"),
        ({"TargetDir": "relative/dir"}, 400, "FileTargetDir.Invalid"),
        ({"ContentType": "Bogus"}, 400, "FileContentType.Invalid"),
        ({"ContentType": "Base64", "Content": "%%%"}, 400, "FileContent.DecodeError"),
        ({"Content": "x" * 30000}, 403, "FileSize.ExceedLimit"),
        ({"Name": ""}, 400, "MissingParameter.Name"),
        ({"InstanceId.1": "mi-nope"}, 404, "InvalidInstance.NotFound"),
    ]
    for change, status, code in cases:
        with pytest.raises(ApiCallError) as error:
            cluster.call("SendFile", **{**base, **change})
        assert (error.value.status, error.value.code) == (status, code), change


@pytest.mark.parametrize("name", ["conf.d/app.conf", "..", "é" * 128])
def test_a_name_the_api_lets_through_but_no_file_system_takes_is_file_name_invalid(
    cluster: Cluster, agent: Agent, tmp_path: Path, name: str
) -> None:
    # A slash, a name of the directory itself, or more than 255 bytes (128 two-byte characters
    # are within the API's 255 characters): the agent refuses it, as the official agent refuses
    # the names it cannot write (its FileNameInvalid).
    task = _send(cluster, agent, Name=name, TargetDir=str(tmp_path / "d"), Content="x")
    row = task["InvokeInstances"]["InvokeInstance"][0]
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Invalid", "FileNameInvalid")
    assert not (tmp_path / "d").exists()


def test_a_mode_accepted_before_special_bits_were_refused_is_file_authority_invalid(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A task stored by a server from before the API refused set-uid, set-gid and sticky bits
    (still pending when the server was upgraded) reaches the agent with mode 4755: the agent
    refuses it (the official agent's InvalidFileMode), so the file is never made set-uid."""
    waiting = cluster.new_agent("upgraded-meanwhile")
    waiting.kill()  # gone without a goodbye: the task waits for it, Pending
    invoke_id = cluster.call(
        "SendFile",
        **{"InstanceId.1": waiting.instance_id},
        Name="tool",
        TargetDir=str(tmp_path),
        Content="#!/bin/sh\n",
        FileMode="0755",
    )["InvokeId"]
    url = cluster.database_url or f"sqlite:///{cluster.root / 'data' / 'openassist.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            change = sa.text("UPDATE file_tasks SET file_mode = '4755' WHERE id = :id")
            conn.execute(change, {"id": invoke_id})
    finally:
        engine.dispose()
    cluster.start_agent(waiting)

    def final() -> dict[str, Any] | None:
        answer = cluster.call("DescribeSendFileResults", InvokeId=invoke_id)
        row = answer["Invocations"]["Invocation"][0]["InvokeInstances"]["InvokeInstance"][0]
        return dict(row) if row["InvocationStatus"] in FINAL else None

    row = wait_until(final, 30, what=f"{invoke_id} to finish")
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Invalid", "FileAuthorityInvalid")
    assert "4755" in row["ErrorInfo"]
    assert not (tmp_path / "tool").exists()
