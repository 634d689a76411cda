"""Attack: secret parameter values left on an instance (issue 13.8).

A ``{{oos-secret:...}}`` value was resolved by the server into the command it handed out, and
the agent kept it: in ``schedules.json`` for the life of a schedule, in the journal's copy of a
run's output until it was compacted, and in script files when the agent died mid-run. Anyone who
later reads the instance's disk (a backup, a stolen volume, a root compromise after the fact)
reads them. Now the agent asks for the values right before each run and keeps them in memory and
in the run's own owner-only script file, removed in every path; a crash (a real SIGKILL of the
agent mid-run) leaves nothing once the agent is back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import stat
from pathlib import Path
from typing import Any

import pytest

from openassist.agent.channel import Channel, SecretsRefused
from openassist.agent.identity import load
from tests.support.attackers import needs_root
from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Agent, Cluster, wait_until

FAST = {"OPENASSIST_MIN_RATE_INTERVAL_S": "1", "OPENASSIST_MIN_CRON_INTERVAL_S": "1"}
NEVER = "0 0 0 1 1 ? 2099 UTC"  # a valid schedule whose first run is far away
RUN_DIRS = "openassist-run-*"


cluster = module_cluster("secrets", FAST)


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("vault-host")


def _secret(cluster: Cluster, name: str) -> str:
    value = f"sv-{secrets.token_hex(16)}"
    cluster.call("CreateSecretParameter", Name=name, Value=value)
    return value


def _run(cluster: Cluster, agent: Agent, script: str, **params: str) -> str:
    return cluster.run(script, agent.instance_id, EnableParameter="true", **params)


def _kept(agent: Agent) -> bytes:
    """Everything the agent leaves on disk: its state directory (the schedules' commands
    decoded from Base64), its log, and the run directories of run-as scripts."""
    kept = []
    files = [*agent.state_dir.rglob("*"), agent.log, *Path("/tmp").glob(f"{RUN_DIRS}/*")]
    for path in files:
        if path.is_file():
            kept.append(path.read_bytes())
    schedules = agent.state_dir / "schedules.json"
    if schedules.exists():
        for item in json.loads(schedules.read_text()):
            kept.append(base64.b64decode(item["task"]["commandContent"]))
    return b"\n".join(kept)


def _history(cluster: Cluster, invoke_id: str) -> list[dict[str, Any]]:
    answer = cluster.call(
        "DescribeInvocationResults",
        InvokeId=invoke_id,
        IncludeHistory="true",
        ContentEncoding="PlainText",
        MaxResults="50",
    )
    return list(answer["Invocation"]["InvocationResults"]["InvocationResult"])


def _runs_with(cluster: Cluster, invoke_id: str, output: str) -> int:
    return sum(1 for r in _history(cluster, invoke_id) if r["Output"] == output)


def _digest(value: str) -> str:
    return f"{hashlib.sha256(value.encode()).hexdigest()}  -\n{value}\n"


def test_a_schedule_asks_for_its_secret_at_each_fire_and_keeps_none(
    cluster: Cluster, agent: Agent
) -> None:
    first = _secret(cluster, "rotating")
    # It prints the value too: the output goes to the server, never into the journal.
    script = 'printf %s "{{oos-secret:rotating}}" | sha256sum; echo "{{oos-secret:rotating}}"'
    invoke_id = _run(cluster, agent, script, Frequency="rate(2s)", Timeout="1")
    wait_until(lambda: _runs_with(cluster, invoke_id, _digest(first)), 60, what="a run")
    assert first.encode() not in _kept(agent)
    held = (agent.state_dir / "schedules.json").read_text()
    assert invoke_id in held  # the schedule is on file, with its placeholder only
    # Rotated: the next fires get the new value, which the agent never stored either.
    cluster.call("DeleteSecretParameter", Name="rotating")
    second = _secret(cluster, "rotating")
    wait_until(lambda: _runs_with(cluster, invoke_id, _digest(second)), 60, what="a new value")
    # A restarted agent loads the schedule from its file and still asks at each fire.
    agent.stop()
    before = _runs_with(cluster, invoke_id, _digest(second))
    cluster.start_agent(agent)
    wait_until(lambda: _runs_with(cluster, invoke_id, _digest(second)) > before, 60, what="a fire")
    kept = _kept(agent)
    assert first.encode() not in kept and second.encode() not in kept
    cluster.call("StopInvocation", InvokeId=invoke_id)
    cluster.call("DeleteSecretParameter", Name="rotating")


@needs_root
def test_a_run_killed_with_the_agent_leaves_no_secret_behind(
    cluster: Cluster, agent: Agent
) -> None:
    value = _secret(cluster, "crash_vault")
    script = 'pw="{{oos-secret:crash_vault}}"; sleep 120'
    as_root = _run(cluster, agent, script, Timeout="300")
    as_nobody = _run(cluster, agent, script, Timeout="300", Username="nobody", WorkingDir="/")
    held = _run(cluster, agent, "echo {{oos-secret:crash_vault}}", Frequency=NEVER)
    for invoke_id in (as_root, as_nobody):
        wait_until(lambda i=invoke_id: agent.journalled_process(i), 30, what="the runs to start")
    wait_until(lambda: held in (agent.state_dir / "schedules.json").read_text(), 30)
    # While they run, the values are in the runs' script files, which only their users read.
    scripts = [p for p in (agent.state_dir / "scripts").iterdir()]
    scripts += [p for d in Path("/tmp").glob(RUN_DIRS) for p in d.iterdir()]
    holding = [p for p in scripts if value.encode() in p.read_bytes()]
    assert len(holding) == 2
    for path in holding:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
    agent.kill()  # SIGKILL mid-run: no clean-up of any kind
    cluster.start_agent(agent)
    for invoke_id in (as_root, as_nobody):
        [result] = cluster.wait_final(invoke_id)
        assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ClientRestarted")
    assert value.encode() not in _kept(agent)
    assert list(Path("/tmp").glob(RUN_DIRS)) == []
    cluster.call("StopInvocation", InvokeId=held)


def test_the_journal_keeps_no_output_of_a_run_with_secrets(cluster: Cluster, agent: Agent) -> None:
    value = _secret(cluster, "echoed")
    invoke_id = _run(cluster, agent, 'sleep 2; echo "{{oos-secret:echoed}}"', Timeout="60")
    wait_until(lambda: agent.journalled_process(invoke_id), 30, what="the run to start")
    cluster.kill_server()  # the final report waits in the journal until the server is back
    journal = agent.state_dir / "journal.jsonl"

    def finished() -> bool:
        lines = [json.loads(line) for line in journal.read_text().splitlines()]
        return any(e.get("task") == invoke_id and e.get("e") == "finished" for e in lines)

    try:
        wait_until(finished, 30, what="the run to end while the server is down")
        assert value.encode() not in _kept(agent)
    finally:
        cluster.restart_server()
    [result] = cluster.wait_final(invoke_id)
    assert result["Output"] == f"{value}\n"  # the user still gets what the script printed
    assert value.encode() not in _kept(agent)


def _ask(agent: Agent, invoke_id: str) -> dict[str, str] | str:
    """What the server answers ``agent``'s signed request for the task's secret values (the
    refusal's text when it refuses)."""

    async def ask() -> dict[str, str] | str:
        channel = Channel(load(agent.state_dir))
        try:
            return await channel.secret_values(invoke_id)
        except SecretsRefused as refused:
            return str(refused)
        finally:
            await channel.close()

    return asyncio.run(ask())


def test_an_instance_gets_the_values_of_its_own_live_tasks_only(
    cluster: Cluster, agent: Agent
) -> None:
    value = _secret(cluster, "scoped")
    other = cluster.new_agent("other-instance")
    invoke_id = _run(cluster, agent, 'pw="{{oos-secret:scoped}}"; sleep 60', Timeout="120")
    wait_until(lambda: agent.journalled_process(invoke_id), 30, what="the run to start")
    assert _ask(agent, invoke_id) == {"scoped": value}
    refused = _ask(other, invoke_id)  # a registered instance asks for another's task
    assert isinstance(refused, str) and "QueryParameterStoreFailed" in refused
    assert value not in refused
    cluster.call("StopInvocation", InvokeId=invoke_id)
    cluster.wait_final(invoke_id)
    ended = _ask(agent, invoke_id)
    assert isinstance(ended, str) and "has ended" in ended


def test_a_schedule_file_an_earlier_release_wrote_loses_its_values_at_start(
    cluster: Cluster, agent: Agent
) -> None:
    value = _secret(cluster, "legacy")
    held = _run(cluster, agent, 'echo "{{oos-secret:legacy}}"', Frequency=NEVER)
    path = agent.state_dir / "schedules.json"
    wait_until(lambda: path.exists() and held in path.read_text(), 30, what="the schedule")
    agent.stop()
    # What an earlier release kept: the command with the value filled in.
    items = json.loads(path.read_text())
    for item in items:
        task = item["task"]
        if task["taskID"] == held:
            script = base64.b64decode(task["commandContent"]).decode()
            filled = script.replace("{{oos-secret:legacy}}", value).encode()
            task["commandContent"] = base64.b64encode(filled).decode()
            del task["secretsPerRun"]
    path.write_text(json.dumps(items))
    assert value.encode() in _kept(agent)
    cluster.start_agent(agent)
    wait_until(lambda: value.encode() not in _kept(agent), 30, what="the file to be cleaned")
    kept = {i["task"]["taskID"]: i["task"] for i in json.loads(path.read_text())}
    assert base64.b64decode(kept[held]["commandContent"]) == b'echo "{{oos-secret:legacy}}"'
    cluster.call("StopInvocation", InvokeId=held)
