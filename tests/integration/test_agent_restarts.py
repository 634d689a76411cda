"""The agent's journal: a task is never started twice, an interrupted one is reported as such,
and a final result survives a server outage."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.cluster import Cluster, wait_until


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _start_long_task(cluster: Cluster, instance_id: str, tmp_path: Path) -> tuple[str, Path, Path]:
    runs, pid_file = tmp_path / "runs", tmp_path / "sleep.pid"
    script = f"echo run >> {runs}; sleep 300 & echo $! > {pid_file}; wait"
    invoke_id = cluster.run(script, instance_id, Timeout="600")
    wait_until(pid_file.exists, 30, what="the script to start")
    wait_until(lambda: pid_file.read_text().strip().isdigit(), 5)
    return invoke_id, runs, pid_file


def test_agent_killed_mid_run_reports_client_restarted(cluster: Cluster, tmp_path: Path) -> None:
    agent = cluster.new_agent("crashy")
    invoke_id, runs, pid_file = _start_long_task(cluster, agent.instance_id, tmp_path)
    wait_until(lambda: agent.journalled_process(invoke_id), 30, what="the group journalled")
    agent.kill()
    orphan = int(pid_file.read_text())
    assert _alive(orphan)  # the script's group outlives a crashed agent...
    cluster.start_agent(agent)
    [result] = cluster.wait_final(invoke_id)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ClientRestarted")
    wait_until(lambda: not _alive(orphan), 15, what="the restarted agent to end the orphan")
    assert runs.read_text() == "run\n"  # ...and the task is never started a second time


def test_reboot_is_told_apart_from_an_agent_restart(cluster: Cluster, tmp_path: Path) -> None:
    agent = cluster.register_agent("rebooted")
    cluster.start_agent(agent, env={"OPENASSIST_AGENT_BOOT_ID": "boot-before"})
    invoke_id, runs, pid_file = _start_long_task(cluster, agent.instance_id, tmp_path)
    agent.kill()
    os.kill(int(pid_file.read_text()), 9)  # a reboot ends every process
    cluster.start_agent(agent, env={"OPENASSIST_AGENT_BOOT_ID": "boot-after"})
    [result] = cluster.wait_final(invoke_id)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "InstanceRestarted")
    assert "rebooted" in result["ErrorInfo"]
    assert runs.read_text() == "run\n"


def test_a_run_the_journal_lost_ends_at_the_restart(cluster: Cluster, tmp_path: Path) -> None:
    """The journal is gone (state directory restored from an old copy, or wiped): the restarted
    agent's startup fetch ends the run it cannot report at once, not Timeout + 60 s later."""
    agent = cluster.new_agent("amnesiac")
    invoke_id, runs, pid_file = _start_long_task(cluster, agent.instance_id, tmp_path)
    wait_until(lambda: agent.journalled_process(invoke_id), 30, what="the group journalled")
    running = lambda: cluster.results(invoke_id)[0]["InvocationStatus"] == "Running"  # noqa: E731
    wait_until(running, 30, what="the server to know the run started")
    agent.kill()
    os.killpg(os.getpgid(int(pid_file.read_text())), 9)
    (agent.state_dir / "journal.jsonl").unlink()
    cluster.start_agent(agent)
    [result] = cluster.wait_final(invoke_id, timeout_s=30)  # Timeout is 600 s
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ClientRestarted")
    assert runs.read_text() == "run\n"


def test_final_result_survives_a_server_kill(tmp_path: Path) -> None:
    with Cluster.start(tmp_path / "cluster") as cluster:
        agent = cluster.new_agent("patient")
        release = tmp_path / "release"
        invoke_id = cluster.run(
            f"while [ ! -e {release} ]; do sleep 0.05; done; echo finished", agent.instance_id
        )
        wait_until(lambda: cluster.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
        cluster.kill_server()
        release.touch()  # the script ends while nobody can take its result
        cluster.restart_server()
        [result] = cluster.wait_final(invoke_id, timeout_s=60)
        assert result["InvocationStatus"] == "Success"
        assert result["Output"] == "finished\n"


def test_goodbye_tells_a_stopped_service_from_a_shutdown(cluster: Cluster) -> None:
    agent = cluster.new_agent("polite")
    agent.stop()  # SIGTERM: the service stops and says so
    [result] = cluster.results(cluster.run("true", agent.instance_id))
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Aborted", "ClientNotRunning")
    assert "goodbye" in result["ErrorInfo"]

    cluster.start_agent(agent, env={"OPENASSIST_AGENT_SYSTEM_STATE": "stopping"})
    agent.stop()  # the machine is going down
    [result] = cluster.results(cluster.run("true", agent.instance_id))
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Aborted", "InstanceNotRunning")

    cluster.start_agent(agent)  # back: its first heartbeat clears the goodbye
    [result] = cluster.wait_final(cluster.run("true", agent.instance_id))
    assert result["InvocationStatus"] == "Success"


def test_access_rules_refuse_an_agent_and_say_so(tmp_path: Path) -> None:
    with Cluster.start(tmp_path / "cluster") as cluster:
        agent = cluster.new_agent("walled-off")
        cluster.kill_server()
        cluster.env = {"OPENASSIST_AGENT_NETWORKS": "192.0.2.0/24"}  # loopback not admitted
        cluster.restart_server()

        def refused() -> bool:
            [result] = cluster.results(cluster.run("true", agent.instance_id))
            return bool(result["ErrorCode"] == "SecurityGroupRuleDenied")

        wait_until(refused, 30, interval_s=0.5, what="the agent to be refused at its reconnect")
        [result] = cluster.results(cluster.run("true", agent.instance_id))
        assert result["InvocationStatus"] == "Aborted"
        assert "access rules" in result["ErrorInfo"]
        assert "refused by the access rules" in (cluster.root / "server.log").read_text()
