"""Fault test: kill -9 the server while 50 agents run a 5-second script, keep it down until they
end, start it again: every result arrives and no script ran twice (each appends a line to its own
file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cluster import Cluster, wait_until

AGENTS = 50
# Its own waits add up to more than the default per-test timeout on a loaded machine.
pytestmark = pytest.mark.timeout(600)


def test_server_killed_mid_run_loses_nothing_and_runs_nothing_twice(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    with Cluster.start(tmp_path / "cluster") as cluster:
        agents = [cluster.register_agent(f"fleet-{n}") for n in range(AGENTS)]
        for agent in agents:
            cluster.start_agent(agent, wait_online=False)
        wait_until(
            lambda: all(cluster.online(a.instance_id) for a in agents),
            120,
            interval_s=0.5,
            what="50 agents online",
        )
        ids = [a.instance_id for a in agents]
        finished = tmp_path / "finished"
        finished.mkdir()
        script = (
            f"echo ran >> {marks}/{{{{ACS::InstanceId}}}}; sleep 5; echo done; "
            f"touch {finished}/{{{{ACS::InstanceId}}}}"
        )
        invoke_id = cluster.run(script, *ids, EnableParameter="true", Timeout="120")
        wait_until(
            lambda: len(list(marks.iterdir())) == AGENTS,
            60,
            interval_s=0.2,
            what="every script to start",
        )
        cluster.kill_server()
        # Down for longer than the scripts run: every final report meets a dead server first.
        wait_until(
            lambda: len(list(finished.iterdir())) == AGENTS,
            60,
            interval_s=0.2,
            what="every script to end while the server is down",
        )
        cluster.restart_server()
        results = cluster.wait_final(invoke_id, timeout_s=180)
    assert len(results) == AGENTS
    assert {r["InvocationStatus"] for r in results} == {"Success"}
    assert all(r["Output"] == "done\n" for r in results)
    counts = {path.name: path.read_text() for path in marks.iterdir()}
    assert sorted(counts) == sorted(ids)
    assert set(counts.values()) == {"ran\n"}  # each script ran exactly once
