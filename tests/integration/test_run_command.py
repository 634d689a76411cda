"""RunCommand end to end: a real server, real agents, real scripts."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path

import pytest

from tests.support.agent_fetch import take_tasks
from tests.support.cluster import Agent, Cluster, wait_until


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("worker")


def test_success_reports_output_and_exit_code(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run("echo hello; echo to-stderr >&2", agent.instance_id)
    [result] = cluster.wait_final(invoke_id)
    assert result["InvocationStatus"] == "Success"
    assert result["InvokeRecordStatus"] == "Finished"
    assert result["ExitCode"] == 0
    assert result["ErrorCode"] == ""
    assert result["Output"] == "hello\nto-stderr\n"
    assert result["Dropped"] == 0
    assert result["StartTime"] and result["FinishedTime"]


def test_output_is_base64_by_default(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run(
        "printf 'caf\\303\\251 \\344\\275\\240\\345\\245\\275'", agent.instance_id
    )
    cluster.wait_final(invoke_id)
    answer = cluster.call("DescribeInvocationResults", InvokeId=invoke_id)
    [result] = answer["Invocation"]["InvocationResults"]["InvocationResult"]
    assert base64.b64decode(result["Output"]).decode() == "café 你好"


def test_nonzero_exit_is_failed_with_exit_code_nonzero(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run("echo partial; exit 3", agent.instance_id)
    [result] = cluster.wait_final(invoke_id)
    assert result["InvocationStatus"] == "Failed"
    assert result["InvokeRecordStatus"] == "Finished"
    assert result["ErrorCode"] == "ExitCodeNonzero"
    assert result["ExitCode"] == 3
    assert "3" in result["ErrorInfo"]
    assert result["Output"] == "partial\n"


def test_timeout_kills_the_process_group(cluster: Cluster, agent: Agent, tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {marker}; echo started; sleep 300"
    invoke_id = cluster.run(script, agent.instance_id, Timeout="1")
    [result] = cluster.wait_final(invoke_id, timeout_s=30)
    assert result["InvocationStatus"] == "Timeout"
    assert result["ErrorCode"] == "ExecutionTimeout"
    assert result["InvokeRecordStatus"] == "Failed"
    assert result["Output"] == "started\n"
    child = int(marker.read_text())
    wait_until(lambda: not _alive(child), 10, what="the background child to be killed")


def test_termination_mode_process_spares_background_children(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    marker = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {marker}; sleep 300"
    invoke_id = cluster.run(script, agent.instance_id, Timeout="1", TerminationMode="Process")
    [result] = cluster.wait_final(invoke_id, timeout_s=30)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Timeout", "ExecutionTimeout")
    assert result["TerminationMode"] == "Process"
    child = int(marker.read_text())
    try:
        assert _alive(child)  # only the script's own process was ended
    finally:
        os.kill(child, 9)


def test_working_dir_is_used(cluster: Cluster, agent: Agent, tmp_path: Path) -> None:
    invoke_id = cluster.run("pwd", agent.instance_id, WorkingDir=str(tmp_path))
    [result] = cluster.wait_final(invoke_id)
    assert result["Output"].strip() == str(tmp_path)


def test_missing_working_dir_is_reported(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run("pwd", agent.instance_id, WorkingDir="/does/not/exist")
    [result] = cluster.wait_final(invoke_id)
    assert result["ErrorCode"] == "DirectoryNotExists"
    assert "/does/not/exist" in result["ErrorInfo"]
    assert result["InvocationStatus"] in ("Error", "Failed", "Invalid")


def test_output_keeps_the_last_24kb_and_counts_dropped(cluster: Cluster, agent: Agent) -> None:
    # 40,000 numbered bytes: the tail must be exactly the last 24,576 of them.
    script = "i=0; while [ $i -lt 4000 ]; do printf '%09d\\n' $i; i=$((i+1)); done"
    invoke_id = cluster.run(script, agent.instance_id)
    [result] = cluster.wait_final(invoke_id)
    expected = "".join(f"{i:09d}\n" for i in range(4000))
    assert result["Dropped"] == len(expected) - 24576
    assert result["Output"] == expected[-24576:]


def test_partial_output_is_visible_while_running(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    script = f"echo first-line; while [ ! -e {release} ]; do sleep 0.05; done; echo done"
    invoke_id = cluster.run(script, agent.instance_id)

    def running_with_output() -> bool:
        [result] = cluster.results(invoke_id)
        return result["InvocationStatus"] == "Running" and "first-line" in result["Output"]

    wait_until(running_with_output, 30, what="partial output while running")
    invocation = cluster.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]
    assert invocation["Invocation"][0]["InvocationStatus"] == "Running"
    release.touch()
    [result] = cluster.wait_final(invoke_id)
    assert result["Output"] == "first-line\ndone\n"


def test_stop_invocation_terminates_a_running_script(
    cluster: Cluster, agent: Agent, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    invoke_id = cluster.run(f"touch {started}; sleep 300", agent.instance_id, Timeout="600")
    wait_until(started.exists, 30, what="the script to start")
    wait_until(lambda: cluster.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    status = cluster.call("DescribeCloudAssistantStatus", **{"InstanceId.1": agent.instance_id})
    [entry] = status["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]
    assert entry["ActiveTaskCount"] == 1
    cluster.call("StopInvocation", InvokeId=invoke_id, **{"InstanceId.1": agent.instance_id})
    [result] = cluster.wait_final(invoke_id, timeout_s=30)
    assert result["InvocationStatus"] == "Terminated"
    assert result["StopTime"]
    task = cluster.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"][0]
    assert task["InvocationStatus"] == "Stopped"


def test_one_task_on_two_agents_aggregates_partial_failure(cluster: Cluster, agent: Agent) -> None:
    second = cluster.new_agent(
        "second",
        env={
            "OPENASSIST_TEST_FAIL_HERE": "1",
            "OPENASSIST_AGENT_SCRIPT_ENV": "OPENASSIST_TEST_FAIL_HERE",
        },
    )
    script = '[ -n "$OPENASSIST_TEST_FAIL_HERE" ] && exit 7; echo ok'
    invoke_id = cluster.run(script, agent.instance_id, second.instance_id)
    results = {r["InstanceId"]: r for r in cluster.wait_final(invoke_id)}
    assert results[agent.instance_id]["InvocationStatus"] == "Success"
    assert results[second.instance_id]["ExitCode"] == 7
    task = cluster.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"][0]
    assert task["InvocationStatus"] == "PartialFailed"
    assert task["InvokeStatus"] == "PartialFailed"
    assert len(task["InvokeInstances"]["InvokeInstance"]) == 2


def test_instance_whose_agent_never_connected_is_aborted(cluster: Cluster) -> None:
    silent = cluster.register_agent("never-started")
    invoke_id = cluster.run("echo hi", silent.instance_id)
    [result] = cluster.results(invoke_id)
    assert result["InvocationStatus"] == "Aborted"
    assert result["ErrorCode"] == "ClientNotRunning"
    assert silent.instance_id in result["ErrorInfo"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def test_record_status_filter_counts_a_nonzero_exit_as_finished(
    cluster: Cluster, agent: Agent
) -> None:
    failed = cluster.run("exit 4", agent.instance_id)
    timed_out = cluster.run("sleep 30", agent.instance_id, Timeout="1")
    cluster.wait_final(failed)
    cluster.wait_final(timed_out, timeout_s=30)
    for wanted, expected, excluded in (
        ("Finished", failed, timed_out),
        ("Failed", timed_out, failed),
    ):
        answer = cluster.call(
            "DescribeInvocationResults",
            InstanceId=agent.instance_id,
            InvokeRecordStatus=wanted,
            MaxResults="50",
        )["Invocation"]
        results = answer["InvocationResults"]["InvocationResult"]
        assert {r["InvokeRecordStatus"] for r in results} == {wanted}
        ids = {r["InvokeId"] for r in results}
        assert expected in ids and excluded not in ids
        assert answer["TotalCount"] == len(results)


def test_stop_of_a_task_the_agent_never_got_ends_at_once(cluster: Cluster) -> None:
    """The delivery is lost on the way (taken here with the agent's own key while it is
    frozen): the stop still ends quickly, because the agent says it has no such run."""

    agent = cluster.new_agent("lost-delivery")
    assert agent.process is not None

    agent.process.send_signal(signal.SIGSTOP)
    handed_to_the_agent: list[str] = []
    try:
        # A task-list fetch the agent sent just before it froze may still be answered (a busy
        # server reads it after the next RunCommand) and take that task: then try another.
        for _attempt in range(3):
            invoke_id = cluster.run("sleep 300", agent.instance_id, Timeout="600")
            taken = take_tasks(agent)
            if taken:
                break
            handed_to_the_agent.append(invoke_id)
        assert taken == [invoke_id]
    finally:
        agent.process.send_signal(signal.SIGCONT)
    for earlier in handed_to_the_agent:
        cluster.call("StopInvocation", InvokeId=earlier)
    cluster.call("StopInvocation", InvokeId=invoke_id)
    [result] = cluster.wait_final(invoke_id, timeout_s=20)
    assert result["InvocationStatus"] == "Cancelled"  # it never started anywhere
