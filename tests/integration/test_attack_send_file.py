"""Attack: a local user turns SendFile against root's files (issue 13.3).

The agent used to ``mkstemp`` in the target directory, then chown and chmod the temporary file
by path and rename it: a user who can write the directory swapped the temporary file for a
symlink and root's chown/chmod followed it (a root 0600 file became 0644 and the user's). And a
symlink of the user's anywhere in TargetDir was followed without any race. The attackers here
are real processes of an unprivileged user with real symlinks; the race runs the agent's own
send-file code as the agent does, the symlinked directory goes through the whole product.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import os
import pwd
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openassist.agent.files import deliver_file
from openassist.cli.api_client import ApiCallError
from openassist.protocol import agent as wire
from openassist.protocol.reports import FileStatus, ReportKind
from tests.support.attackers import (
    Prize,
    User,
    needs_root,
    shared_directory,
    start_attacker,
    stop_attacker,
    unprivileged_user,
)
from tests.support.cluster import Agent, Cluster, wait_until

pytestmark = needs_root

RUNS = 300
FINAL = {"Success", "Failed", "Invalid", "Aborted", "Error", "Timeout"}

# Swap every temporary file of "app.conf" (and the file itself) for a symlink to the prize;
# stops on the stop file, after 60 s, or after 3 million passes.
SWAP = r"""
import os, sys, time
directory, target, stop = sys.argv[1:4]
deadline, passes = time.monotonic() + 60, 0
while passes < 3_000_000 and time.monotonic() < deadline and not os.path.exists(stop):
    passes += 1
    try:
        entries = os.listdir(directory)
    except OSError:
        continue
    for entry in entries:
        if not (entry.startswith(".app.conf.") or entry == "app.conf"):
            continue
        path = os.path.join(directory, entry)
        if os.path.islink(path):
            continue
        try:
            os.symlink(target, os.path.join(directory, ".swap"))
            os.rename(os.path.join(directory, ".swap"), path)
        except OSError:
            pass
print(passes)
"""


@pytest.fixture(scope="module")
def user() -> Iterator[User]:
    with unprivileged_user() as found:
        yield found


def _task(directory: Path, user: User, name: str = "app.conf", **fields: Any) -> wire.FileTaskInfo:
    content = base64.b64encode(b"setting = 1\n").decode()
    values: dict[str, Any] = {
        "taskID": "f-attacked",
        "name": name,
        "destination": str(directory),
        "content": content,
        "mode": "0644",
        "owner": user.name,
        "group": grp.getgrgid(user.gid).gr_name,
        "overwrite": True,
        "signature": hashlib.md5(content.encode()).hexdigest(),
    }
    return wire.FileTaskInfo(**{**values, **fields})


def test_swapping_the_temporary_file_cannot_hand_a_root_file_to_the_user(
    tmp_path: Path, user: User
) -> None:
    prize = Prize(tmp_path / "root-only").plant()
    with shared_directory() as shared:
        directory = shared / "app"
        directory.mkdir()
        os.chown(directory, user.uid, user.gid)  # the user may write the target directory
        stop = shared / "stop"
        attacker = start_attacker(user, SWAP, str(directory), str(prize.path), str(stop))
        reports = []
        try:
            for _ in range(RUNS):
                reports.append(deliver_file(_task(directory, user)))
                if not prize.untouched():
                    break
        finally:
            passes = stop_attacker(attacker, stop)
        assert prize.untouched(), f"root's 0600 file was changed: {prize.describe()}"
        assert int(passes.strip()) > 0
        # A report of Success means the file is really there: a name that led elsewhere failed.
        statuses = {report.file_status for report in reports}
        assert statuses <= {FileStatus.SUCCESS, FileStatus.FAILED}
        # No temporary file of ours is left (the attacker's own symlinks may be).
        left = [p for p in directory.iterdir() if p.name.startswith(".app.conf.")]
        assert [p for p in left if not p.is_symlink()] == []


def test_a_file_whose_name_is_a_planted_symlink_is_replaced_not_followed(
    tmp_path: Path, user: User
) -> None:
    prize = Prize(tmp_path / "root-only").plant()
    with shared_directory() as shared:
        directory = shared / "app"
        directory.mkdir()
        os.chown(directory, user.uid, user.gid)
        os.symlink(prize.path, directory / "app.conf")
        os.lchown(directory / "app.conf", user.uid, user.gid)
        report = deliver_file(_task(directory, user))
        assert (report.kind, report.file_status) == (ReportKind.FINISH, FileStatus.SUCCESS)
        written = directory / "app.conf"
        assert not written.is_symlink() and written.read_bytes() == b"setting = 1\n"
        assert prize.untouched()


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("files-under-attack")


def _send(cluster: Cluster, agent: Agent, **params: str) -> dict[str, Any]:
    answer = cluster.call("SendFile", **{"InstanceId.1": agent.instance_id, **params})
    invoke_id = answer["InvokeId"]

    def final() -> dict[str, Any] | None:
        found = cluster.call("DescribeSendFileResults", InvokeId=invoke_id)
        row = found["Invocations"]["Invocation"][0]["InvokeInstances"]["InvokeInstance"][0]
        return dict(row) if row["InvocationStatus"] in FINAL else None

    return dict(wait_until(final, 30, what=f"{invoke_id} to finish"))


def test_a_users_symlink_in_the_target_directory_is_not_followed(
    cluster: Cluster, agent: Agent, tmp_path: Path, user: User
) -> None:
    root_only = tmp_path / "root-only-dir"
    root_only.mkdir(mode=0o700)
    with shared_directory() as shared:
        home = shared / "home"
        home.mkdir()
        os.chown(home, user.uid, user.gid)
        os.symlink(root_only, home / "config")
        os.lchown(home / "config", user.uid, user.gid)  # planted by the user
        row = _send(
            cluster, agent, Name="cron.conf", TargetDir=str(home / "config" / "d"), Content="x"
        )
        assert (row["InvocationStatus"], row["ErrorCode"]) == ("Invalid", "FilePathInvalid")
        assert "symbolic link" in row["ErrorInfo"]
        assert list(root_only.iterdir()) == []
        # The user's own file may go through the user's own link.
        row = _send(
            cluster,
            agent,
            Name="mine.conf",
            TargetDir=str(home / "config"),
            Content="x",
            FileOwner=user.name,
        )
        assert row["InvocationStatus"] == "Success", row
        assert (root_only / "mine.conf").stat().st_uid == user.uid


def test_a_root_owned_symlink_is_followed(cluster: Cluster, agent: Agent, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "current")
    row = _send(cluster, agent, Name="a.conf", TargetDir=str(tmp_path / "current"), Content="x")
    assert row["InvocationStatus"] == "Success", row
    assert (tmp_path / "real" / "a.conf").read_text() == "x"


def test_missing_directories_are_made_for_the_files_owner(
    cluster: Cluster, agent: Agent, tmp_path: Path, user: User
) -> None:
    group = grp.getgrgid(user.gid).gr_name
    target = tmp_path / "srv" / "app" / "conf"
    row = _send(
        cluster,
        agent,
        Name="a.conf",
        TargetDir=str(target),
        Content="x",
        FileOwner=user.name,
        FileGroup=group,
    )
    assert row["InvocationStatus"] == "Success", row
    for made in (tmp_path / "srv", tmp_path / "srv" / "app", target):
        status = made.stat()
        assert (status.st_uid, status.st_gid) == (user.uid, user.gid), made
        assert stat.S_IMODE(status.st_mode) == 0o755
    assert tmp_path.stat().st_uid == 0  # what existed keeps its owner


@pytest.mark.parametrize("mode", ["4755", "2755", "1777", "6755", "7777"])
def test_set_id_and_sticky_bits_are_refused_at_the_api(
    cluster: Cluster, agent: Agent, tmp_path: Path, mode: str
) -> None:
    with pytest.raises(ApiCallError) as refused:
        cluster.call(
            "SendFile",
            **{"InstanceId.1": agent.instance_id},
            Name="tool",
            TargetDir=str(tmp_path),
            Content="x",
            FileMode=mode,
        )
    assert refused.value.code == "FileMode.Invalid"
    assert "set-uid" in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_plain_permission_modes_still_pass(cluster: Cluster, agent: Agent, tmp_path: Path) -> None:
    for mode, name in (("0755", "a"), ("700", "b")):
        row = _send(cluster, agent, Name=name, TargetDir=str(tmp_path), Content="x", FileMode=mode)
        assert row["InvocationStatus"] == "Success", row
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == int(mode, 8)
    assert pwd.getpwuid((tmp_path / "a").stat().st_uid).pw_name == "root"
