"""``openassist ecs``, run as a subprocess: ``--help`` lists the actions and each action's
parameters without a server; ``openassist ecs <Action> --Param value`` reaches every action."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openassist.cli.action_reference import REFERENCE
from openassist.server.api import endpoint  # noqa: F401  (importing registers the actions)
from openassist.server.api.registry import ACTIONS
from tests.support.cluster import Cluster, free_port

REFUSAL = re.compile(r"openassist: ([A-Za-z.]+): (.+) \(HTTP (\d{3})\)")


def ecs(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openassist.cli.main", "ecs", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.fixture
def nowhere(tmp_path: Path) -> dict[str, str]:
    """An environment whose credentials point at a port nobody listens on: help must not care."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENASSIST_")}
    env.update(
        OPENASSIST_ACCESS_KEY_ID="OAKEY",
        OPENASSIST_ACCESS_KEY_SECRET="secret",
        OPENASSIST_ENDPOINT=f"127.0.0.1:{free_port()}",
    )
    return env


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_ecs_help_lists_every_action_without_a_server(
    nowhere: dict[str, str], tmp_path: Path, flag: str
) -> None:
    result = ecs(flag, env=nowhere, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  ([A-Z][A-Za-z]+)  ", result.stdout, re.MULTILINE)
    assert set(listed) == set(ACTIONS)


def test_each_action_help_lists_its_parameters_without_a_server(
    nowhere: dict[str, str], tmp_path: Path
) -> None:
    for action, reference in sorted(REFERENCE.items()):
        result = ecs(action, "--help", env=nowhere, cwd=tmp_path)
        assert result.returncode == 0, (action, result.stderr)
        assert result.stderr == "", action  # nothing tried to reach the server
        assert result.stdout.startswith(f"usage: openassist ecs {action} ")
        for parameter in reference.parameters:
            line = re.search(
                rf"^  --{re.escape(parameter.name)} +(\*| ) (.+)$", result.stdout, re.M
            )
            assert line, (action, parameter.name)
            assert (line.group(1) == "*") == parameter.required, (action, parameter.name)
            assert line.group(2) == parameter.meaning


def test_unknown_action_and_bare_ecs_are_usage_errors(
    nowhere: dict[str, str], tmp_path: Path
) -> None:
    unknown = ecs("runcommand", "--help", env=nowhere, cwd=tmp_path)
    assert unknown.returncode == 1
    assert "unknown action 'runcommand' (did you mean RunCommand?)" in unknown.stderr
    bare = ecs(env=nowhere, cwd=tmp_path)
    assert bare.returncode == 1 and "RunCommand" in bare.stderr


# --- against a server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_env(cluster: Cluster) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENASSIST_")}
    env.update(
        OPENASSIST_ACCESS_KEY_ID=cluster.credentials.access_key_id,
        OPENASSIST_ACCESS_KEY_SECRET=cluster.credentials.access_key_secret,
        OPENASSIST_ENDPOINT=cluster.endpoint,
        OPENASSIST_REGION=cluster.credentials.region_id,
    )
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    return env


def test_ecs_reaches_every_action(
    cluster: Cluster, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """Called bare, each action answers for itself: a result, or its own refusal (a missing
    parameter, ...), never InvalidAction and never a server error."""
    for action in sorted(ACTIONS):
        result = ecs(action, env=cli_env, cwd=tmp_path)
        if result.returncode == 0:
            assert json.loads(result.stdout)["RequestId"], action
            continue
        assert result.returncode == 1, (action, result.stderr)
        refused = REFUSAL.search(result.stderr)
        assert refused, (action, result.stderr)
        code, message, status = refused.group(1), refused.group(2), int(refused.group(3))
        assert code != "InvalidAction" and 400 <= status < 500, (action, result.stderr)
        required = [p.name for p in REFERENCE[action].parameters if p.required]
        if code.startswith("MissingParameter."):  # the help says it was required
            assert code.removeprefix("MissingParameter.") in {n.split(".")[0] for n in required}
            assert code.removeprefix("MissingParameter.") in message


def test_ecs_passes_parameters_through(
    cluster: Cluster, cli_env: dict[str, str], tmp_path: Path
) -> None:
    machine = cluster.register_agent("ecs-cli-target")
    started = ecs(
        "RunCommand",
        "--Type",
        "RunShellScript",
        "--CommandContent",
        "echo from the ecs command",
        "--InstanceId.1",
        machine.instance_id,
        "--Name",
        "via-ecs",
        env=cli_env,
        cwd=tmp_path,
    )
    assert started.returncode == 0, started.stderr
    invoke_id = json.loads(started.stdout)["InvokeId"]
    listed = ecs("DescribeInvocations", "--InvokeId", invoke_id, env=cli_env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [task] = json.loads(listed.stdout)["Invocations"]["Invocation"]
    assert (task["CommandName"], task["InvokeInstances"]["InvokeInstance"][0]["InstanceId"]) == (
        "via-ecs",
        machine.instance_id,
    )


def test_an_unknown_parameter_is_refused_before_the_call(
    cluster: Cluster, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``Owner`` instead of ``FileOwner`` used to write a root-owned file without a word: the
    server ignores names it does not know, so the CLI refuses them first (issue 13, low)."""
    before = cluster.call("DescribeSendFileResults")["TotalCount"]
    refused = ecs(
        "SendFile",
        "--InstanceId.1",
        "mi-nowhere",
        "--Name",
        "app.conf",
        "--TargetDir",
        "/tmp",
        "--Content",
        "eA==",
        "--Owner",
        "nobody",
        env=cli_env,
        cwd=tmp_path,
    )
    assert refused.returncode == 1, refused.stderr
    assert "SendFile has no parameter --Owner (did you mean --FileOwner?)" in refused.stderr
    assert cluster.call("DescribeSendFileResults")["TotalCount"] == before
