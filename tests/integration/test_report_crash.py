"""Crash tests of group commit, on SQLite and PostgreSQL, with 30 real agents.

Reports: the agents end their scripts at the same moment, so their final reports reach the
server together and are written in batches; the server is killed (SIGKILL) once some of them
are stored and the rest are in flight. After a restart every result is stored (an agent drops a
result from its journal only once the server acknowledged it, and the server acknowledges only
after the commit), no script ran twice, and the task's overall status, kept from status counts,
is Success.

Claims: the agents are kicked at once, so their task-list fetches reach the server together and
their claims are written in batches; the server is killed once the first scripts started (their
claims committed and answered) while other fetches are in flight. After a restart every script
ran exactly once: a claim is answered only after its commit (an agent never runs a task whose
hand-out was lost), and a committed claim is not handed out again before its redelivery time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.support.cluster import Cluster, backend_cluster, wait_until

AGENTS = 30
pytestmark = pytest.mark.timeout(600)  # 30 agents and a restart, on a loaded machine


@pytest.fixture(params=BACKENDS)
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    # A task not taken within its delivery window would end DeliveryTimeout: far beyond a
    # restart on a loaded machine here.
    env = {"OPENASSIST_DELIVERY_TIMEOUT_S": "900"}
    with backend_cluster(request.param, tmp_path / "cluster", env) as running:
        yield running


def _online(cluster: Cluster, count: int) -> list[str]:
    agents = [cluster.register_agent(f"crash-{n}") for n in range(count)]
    for agent in agents:
        cluster.start_agent(agent, wait_online=False)
    wait_until(
        lambda: all(cluster.online(a.instance_id) for a in agents), 180, 0.5, "agents online"
    )
    return [a.instance_id for a in agents]


def _every_script_succeeded_once(
    cluster: Cluster, invoke_id: str, marks: Path, ids: list[str]
) -> None:
    """After the restart: every result stored as Success with its output, and each script ran
    exactly once (each run appended a line to its instance's mark file)."""
    results = cluster.wait_final(invoke_id, timeout_s=300)
    assert len(results) == AGENTS
    assert {r["InvocationStatus"] for r in results} == {"Success"}
    assert all(r["Output"] == "done\n" for r in results)
    runs = {path.name: path.read_text() for path in marks.iterdir()}
    assert sorted(runs) == sorted(ids)
    assert set(runs.values()) == {"ran\n"}


def test_server_killed_while_reports_are_written_in_batches_loses_none(
    cluster: Cluster, tmp_path: Path
) -> None:
    marks, go = tmp_path / "marks", tmp_path / "go"
    marks.mkdir()
    ids = _online(cluster, AGENTS)
    script = (
        f"echo ran >> {marks}/{{{{ACS::InstanceId}}}}; "
        f"while [ ! -e {go} ]; do sleep 0.02; done; echo done"
    )
    invoke_id = cluster.run(script, *ids, EnableParameter="true", Timeout="300")
    wait_until(lambda: len(list(marks.iterdir())) == AGENTS, 120, 0.1, "every script to start")
    go.touch()  # every script ends now: the final reports arrive together

    def some_stored() -> bool:
        return any(r["InvocationStatus"] == "Success" for r in cluster.results(invoke_id))

    wait_until(some_stored, 120, 0.005, "the first results to be stored")
    cluster.kill_server()
    cluster.restart_server()
    _every_script_succeeded_once(cluster, invoke_id, marks, ids)
    [task] = cluster.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"]
    assert task["InvocationStatus"] == "Success"


def test_server_killed_while_claims_are_written_in_batches_runs_each_script_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    ids = _online(cluster, AGENTS)
    script = f"echo ran >> {marks}/{{{{ACS::InstanceId}}}}; echo done"
    invoke_id = cluster.run(script, *ids, EnableParameter="true", Timeout="300")
    wait_until(lambda: any(marks.iterdir()), 120, 0.005, "the first script to start")
    cluster.kill_server()
    cluster.restart_server()
    _every_script_succeeded_once(cluster, invoke_id, marks, ids)
