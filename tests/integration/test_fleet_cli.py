"""``openassist run | results | instances | invocations | stop | diagnose`` against a real server
and five real agents: targets by name, glob, tag and --all, streaming text, groups, JSON shapes
(the API's own rows), exit codes per outcome, scripts from stdin and files."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cluster import Agent, Cluster, wait_until


@dataclass
class Fleet:
    cluster: Cluster
    agents: dict[str, Agent]  # by name; "cold-1" is registered but never started

    def id(self, name: str) -> str:
        return self.agents[name].instance_id


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> Fleet:
    layout = {
        "web-1": ("web", "prod"),
        "web-2": ("web", "prod"),
        "web-3": ("web", "staging"),
        "db-1": ("db", "prod"),
    }
    agents: dict[str, Agent] = {}
    for name, (role, env) in layout.items():
        agents[name] = cluster.new_agent(
            name,
            env={"FLEET_ROLE": role, "OPENASSIST_AGENT_SCRIPT_ENV": "FLEET_ROLE"},
            tags={"role": role, "env": env},
        )
    agents["cold-1"] = cluster.register_agent(
        "cold-1", **{"Tag.1.Key": "role", "Tag.1.Value": "cold"}
    )
    return Fleet(cluster, agents)


def _task_id(stdout: str) -> str:
    found = re.search(r"^task ([tf]-\w+)", stdout, re.M)
    assert found, stdout
    return found.group(1)


def test_run_streams_each_machine_by_name_and_sums_up(fleet: Fleet) -> None:
    done = fleet.cluster.cli("run", "echo hi from $FLEET_ROLE", "-i", "web-*")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("task t-") and lines[0].endswith("(3 machines)")
    heads = [line for line in lines if re.match(r"web-\d: ", line)]
    assert sorted(h.split(":")[0] for h in heads) == ["web-1", "web-2", "web-3"]
    assert all(re.fullmatch(r"web-\d: Success, exit 0, (<1|\d+) s", h) for h in heads), heads
    assert lines.count("hi from web") == 3
    assert lines[-1] == "3 machines: 3 succeeded (web-[1-3])"


def test_ids_names_and_hostnames_select_the_same_machines(fleet: Fleet) -> None:
    by_id = fleet.cluster.cli("run", "true", "-i", fleet.id("db-1"), "-i", "web-2")
    assert by_id.returncode == 0, by_id.stderr
    assert by_id.stdout.splitlines()[-1] == "2 machines: 2 succeeded (db-1,web-2)"
    comma = fleet.cluster.cli("run", "true", "-i", f"web-1,{fleet.id('web-3')}")
    assert comma.stdout.splitlines()[-1] == "2 machines: 2 succeeded (web-[1,3])"


def test_tags_must_all_match(fleet: Fleet) -> None:
    done = fleet.cluster.cli("run", "true", "--tag", "role=web", "--tag", "env=prod")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "2 machines: 2 succeeded (web-[1-2])"
    keyed = fleet.cluster.cli("run", "true", "--tag", "env", "-i", "*-1")
    assert keyed.stdout.splitlines()[-1] == "2 machines: 2 succeeded (db-1,web-1)"
    nobody = fleet.cluster.cli("run", "true", "--tag", "role=mail")
    assert nobody.returncode == 1
    assert "no machine matches the selection (tags: role=mail)" in nobody.stderr


def test_an_unknown_name_is_an_error_with_near_matches(fleet: Fleet) -> None:
    done = fleet.cluster.cli("run", "true", "-i", "web-9")
    assert done.returncode == 1
    assert "no machine is named 'web-9' (did you mean" in done.stderr
    assert "web-1" in done.stderr
    assert "Traceback" not in done.stderr
    none = fleet.cluster.cli("run", "true")
    assert none.returncode == 1 and "-i NAME|ID|GLOB, --tag KEY[=VALUE] or --all" in none.stderr


def test_exit_codes_per_outcome(fleet: Fleet) -> None:
    failed = fleet.cluster.cli("run", '[ "$FLEET_ROLE" = db ] || exit 3', "--tag", "env=prod")
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert "web-1: Failed, exit 3," in failed.stdout
    summary = failed.stdout.splitlines()[-1]
    assert summary == "3 machines: 1 succeeded (db-1), 2 failed (web-[1-2])"
    task = _task_id(failed.stdout)
    assert fleet.cluster.cli("results", task).returncode == 2  # the same verdict later
    assert fleet.cluster.cli("results", task, "-i", "db-1").returncode == 0
    elsewhere = fleet.cluster.cli("results", task, "-i", "web-3")  # not one of the task's
    assert elsewhere.returncode == 1 and "none of the machines selected" in elsewhere.stderr
    unreached = fleet.cluster.cli("run", "true", "--all")
    assert unreached.returncode == 3, unreached.stdout
    assert "1 not reached (cold-1)" in unreached.stdout.splitlines()[-1]
    assert "cold-1: " in unreached.stdout and "ClientNotRunning" in unreached.stdout
    timed_out = fleet.cluster.cli("run", "sleep 5", "-i", "web-3", "--timeout", "1")
    assert timed_out.returncode == 2
    assert "web-3: Timeout" in timed_out.stdout


def test_group_shows_identical_outputs_once_with_host_ranges(fleet: Fleet) -> None:
    done = fleet.cluster.cli("run", "-b", "echo $FLEET_ROLE", "--tag", "env")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "web-[1-3] (3): Success, exit 0\n" in text
    assert "db-1 (1): Success, exit 0\n" in text
    assert text.count("\nweb\n") == 1 and text.count("\ndb\n") == 1
    assert "web-1: " not in text  # no per-machine lines when grouping


def test_json_document_holds_the_api_rows(fleet: Fleet) -> None:
    done = fleet.cluster.cli("run", "--json", "echo $FLEET_ROLE", "--tag", "role=web")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"InvokeId", "InvokeIds", "InvocationResults"}
    api = {r["InstanceId"]: r for r in fleet.cluster.all_results(document["InvokeId"])}
    names = {}
    for row in document["InvocationResults"]:
        names[row.pop("InstanceName")] = row["InstanceId"]
        assert row == api[row["InstanceId"]]
    assert names == {n: fleet.id(n) for n in ("web-1", "web-2", "web-3")}


def test_jsonl_prints_one_api_row_per_machine(fleet: Fleet) -> None:
    done = fleet.cluster.cli("run", "--jsonl", "exit 4", "-i", "web-1", "-i", "db-1")
    assert done.returncode == 2
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(r["InstanceName"] for r in rows) == ["db-1", "web-1"]
    api = fleet.cluster.all_results(rows[0]["InvokeId"])
    assert {r["InstanceId"] for r in api} == {r["InstanceId"] for r in rows}
    assert set(rows[0]) == set(api[0]) | {"InstanceName"}
    assert {r["ExitCode"] for r in rows} == {4}


def test_script_from_stdin_and_from_a_file(fleet: Fleet, tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    script.write_bytes(b"#!/bin/sh\necho 'from a file'\nprintf '\\351t\\351\\n'\n")
    from_file = fleet.cluster.cli("run", "-f", str(script), "-i", "web-1")
    assert from_file.returncode == 0, from_file.stderr
    assert "from a file\n" in from_file.stdout
    from_stdin = fleet.cluster.cli("run", "-", "-i", "web-1", stdin="echo piped in\n")
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert "\npiped in\n" in from_stdin.stdout
    both = fleet.cluster.cli("run", "true", "-f", str(script), "-i", "web-1")
    assert both.returncode == 1 and "not both" in both.stderr


def test_a_script_over_the_api_limit_names_the_limit_and_send_file(
    fleet: Fleet, tmp_path: Path
) -> None:
    big = tmp_path / "big.sh"
    big.write_text("# padding\n" * 20_000)
    done = fleet.cluster.cli("run", "-f", str(big), "-i", "web-1")
    assert done.returncode == 1
    assert "the limit is" in done.stderr and "openassist send-file" in done.stderr
    assert "Traceback" not in done.stderr


def test_instances_lists_names_tags_and_filters(fleet: Fleet) -> None:
    listed = fleet.cluster.cli("instances")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:4] == ["NAME", "ID", "ONLINE", "LAST"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert {"web-1", "web-2", "web-3", "db-1", "cold-1"} <= set(rows)
    assert rows["web-1"][1:3] == [fleet.id("web-1"), "yes"]
    assert rows["cold-1"][2:4] == ["no", "never"]
    assert "env=prod" in listed.stdout
    tagged = fleet.cluster.cli("instances", "--tag", "role=web", "--json")
    document = json.loads(tagged.stdout)
    api = fleet.cluster.call("DescribeManagedInstances", MaxResults="50")["Instances"]
    by_id = {i["InstanceId"]: i for i in api}
    assert [i["InstanceName"] for i in document["Instances"]] == ["web-1", "web-2", "web-3"]
    for item in document["Instances"]:
        assert item.pop("LastHeartbeatTime")
        assert item == by_id[item["InstanceId"]]


def test_invocations_lists_file_tasks_and_results_take_f_ids(fleet: Fleet, tmp_path: Path) -> None:
    local = tmp_path / "note.txt"
    local.write_text("hello\n")
    assert fleet.cluster.cli("run", "true", "-i", "web-1").returncode == 0  # a command task too
    # One machine: the agents share this host, and two writing one file at once may collide.
    sent = fleet.cluster.cli("send-file", str(local), "--to", str(tmp_path / "out"), "-i", "web-2")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    file_task = _task_id(sent.stdout)
    assert sent.stdout.splitlines()[-1] == "1 machine: 1 succeeded (web-2)"
    listed = fleet.cluster.cli("invocations")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:3] == ["INVOKE", "ID", "TYPE"]
    row = next(line.split() for line in listed.stdout.splitlines() if line.startswith(file_task))
    assert row[1:4] == ["file", "Success", "1"]
    assert listed.stdout.splitlines()[0].split()[10] == "BY"
    assert row[8] == "admin"  # who ran it: the user whose key created the task
    command_rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert any(r[1] == "command" and r[8] == "admin" for r in command_rows)
    as_json = json.loads(fleet.cluster.cli("invocations", "--json").stdout)
    assert file_task in {t["InvokeId"] for t in as_json["Invocations"]}
    assert {t["InvokedBy"] for t in as_json["Invocations"]} == {"admin"}
    results = fleet.cluster.cli("results", file_task, "--json", "-i", "web-2")
    assert results.returncode == 0, results.stderr
    document = json.loads(results.stdout)
    [only] = document["InvokeInstances"]
    assert (only["InstanceName"], only["InvocationStatus"]) == ("web-2", "Success")


def test_diagnose_and_output_take_names(fleet: Fleet) -> None:
    failed = fleet.cluster.cli("run", "echo oops; exit 7", "-i", "web-1", "-i", "web-2")
    task = _task_id(failed.stdout)
    diagnosis = fleet.cluster.cli("diagnose", task, "-i", "web-2")
    assert diagnosis.returncode == 2, diagnosis.stderr
    assert f"web-2 ({fleet.id('web-2')})  Failed  ExitCodeNonzero" in diagnosis.stdout
    assert "web-1" not in diagnosis.stdout
    as_json = json.loads(fleet.cluster.cli("diagnose", task, "--json").stdout)
    assert {d["InstanceId"] for d in as_json["Diagnoses"]["Diagnosis"]} == {
        fleet.id("web-1"),
        fleet.id("web-2"),
    }
    output = fleet.cluster.cli("output", task, "-i", "web-1")
    assert output.returncode == 0 and output.stdout == "oops\n"
    ambiguous = fleet.cluster.cli("output", task, "-i", "web-*")
    assert ambiguous.returncode == 1 and "names 3 machines" in ambiguous.stderr


def test_version_and_usage_errors(fleet: Fleet) -> None:
    version = fleet.cluster.cli("--version")
    assert version.returncode == 0 and re.fullmatch(r"openassist \d+\.\d+\.\d+\n", version.stdout)
    bad = fleet.cluster.cli("run", "true", "-i", "web-1", "--no-such-flag")
    assert bad.returncode == 1 and "unrecognized arguments: --no-such-flag" in bad.stderr
    both = fleet.cluster.cli("run", "true", "-i", "web-1", "--json", "--jsonl")
    assert both.returncode == 1


def _foreground_interrupts() -> None:
    """In the child: Ctrl-C as in a terminal's foreground job. A child inherits an ignored
    SIGINT (as a shell's background job has it: a suite started with ``... &`` ignores it), and
    the CLI then rightly went on following."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_following(fleet: Fleet, script: str) -> tuple[subprocess.Popen[str], str]:
    """``openassist run SCRIPT -i web-1`` as a process the test signals; its task id once the
    script runs on the machine."""
    process = subprocess.Popen(
        fleet.cluster.cli_args("run", script, "-i", "web-1"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_foreground_interrupts,
    )
    assert process.stdout is not None
    try:
        task = _task_id(process.stdout.readline())
        wait_until(lambda: fleet.cluster.results(task)[0]["InvocationStatus"] == "Running", 30)
    except BaseException:
        with _reaped(process):
            raise
    return process, task


@contextlib.contextmanager
def _reaped(process: subprocess.Popen[str]) -> Iterator[None]:
    """However the test ends, the CLI process is gone and its pipes closed."""
    try:
        yield
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _stderr_until(process: subprocess.Popen[str], marker: str) -> str:
    assert process.stderr is not None
    seen = ""
    while marker not in seen:
        chunk = process.stderr.read(1)
        assert chunk, f"stderr ended before {marker!r}: {seen}"
        seen += chunk
    return seen


def test_ctrl_c_leaves_the_task_running_and_says_how_to_follow_or_stop_it(
    fleet: Fleet, tmp_path: Path
) -> None:
    process, task = _start_following(fleet, "sleep 60")
    with _reaped(process):
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert f"interrupted; the task keeps running: {task}" in err
    assert f"openassist stop {task}" in err and f"openassist results {task} --wait" in err
    assert "Traceback" not in err
    assert fleet.cluster.results(task)[0]["InvocationStatus"] == "Running"
    stopped = fleet.cluster.cli("stop", task)
    assert stopped.returncode == 0, stopped.stderr
    [row] = fleet.cluster.wait_final(task)
    assert row["InvocationStatus"] == "Terminated"
    assert fleet.cluster.cli("results", task).returncode == 2


def test_a_second_ctrl_c_stops_the_task_after_asking(fleet: Fleet) -> None:
    process, task = _start_following(fleet, "sleep 60")
    with _reaped(process):
        process.send_signal(signal.SIGINT)
        _stderr_until(process, "press Ctrl-C again")
        process.send_signal(signal.SIGINT)
        _stderr_until(process, "[y/N] ")
        _, err = process.communicate("y\n", timeout=30)
    assert process.returncode == 130
    assert f"stopping {task}" in err and "Traceback" not in err
    [row] = fleet.cluster.wait_final(task)
    assert row["InvocationStatus"] == "Terminated"


def test_an_agent_given_a_relative_state_dir_runs_scripts(fleet: Fleet, tmp_path: Path) -> None:
    cluster = fleet.cluster
    activation = cluster.call("CreateActivation", InstanceCount="1")
    base = [sys.executable, "-m", "openassist.cli.main", "--log-level", "warning", "agent"]
    registered = subprocess.run(
        [
            *base,
            "register",
            *("--server", f"127.0.0.1:{cluster.agent_port}", "--ca", str(cluster.ca_file)),
            *("--activation-id", activation["ActivationId"]),
            *("--activation-code", activation["ActivationCode"]),
            *("--state-dir", "run/agent1", "--name", "relative-1"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert registered.returncode == 0, registered.stderr
    instance_id = registered.stdout.strip()
    with (tmp_path / "agent.log").open("wb") as log:
        agent = subprocess.Popen(
            [*base, "run", "--state-dir", "run/agent1"], cwd=tmp_path, stdout=log, stderr=log
        )
    try:
        wait_until(lambda: cluster.online(instance_id), 30, what="the agent to heartbeat")
        done = cluster.cli("run", "echo ran", "-i", "relative-1")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "\nran\n" in done.stdout
    finally:
        agent.terminate()
        agent.wait(10)
        cluster.call("DeregisterManagedInstance", InstanceId=instance_id)


def test_results_wait_follows_a_running_task_to_its_end(fleet: Fleet, tmp_path: Path) -> None:
    gate = tmp_path / "go"
    script = f"while [ ! -e {gate} ]; do sleep 0.05; done; echo released"
    started = fleet.cluster.cli("run", "--no-wait", script, "-i", "web-1", "-i", "web-2")
    assert started.returncode == 0, started.stderr
    task = _task_id(started.stdout)
    follower = subprocess.Popen(
        fleet.cluster.cli_args("results", task, "--wait", "-i", "web-2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with _reaped(follower):
        assert follower.stdout is not None
        assert follower.stdout.readline() == f"task {task} (1 machine)\n"
        assert follower.poll() is None  # still waiting: the script waits for the gate
        gate.touch()
        out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    assert out.splitlines() == [
        next(line for line in out.splitlines() if line.startswith("web-2: Success, exit 0")),
        "released",
        "1 machine: 1 succeeded (web-2)",
    ]


def test_a_terminal_sees_a_live_line_of_counts(fleet: Fleet) -> None:
    """Standard error on a terminal (a real pseudo-terminal): the counts line is drawn and then
    erased; standard output, a pipe, carries only the results."""
    controller, terminal = pty.openpty()
    with os.fdopen(controller, "rb", buffering=0) as screen:
        process = subprocess.Popen(
            fleet.cluster.cli_args("run", "exit 5", "-i", "web-1", "-i", "web-2"),
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        )
        os.close(terminal)
        with _reaped(process):
            out, _ = process.communicate(timeout=60)
        drawn = b""
        with contextlib.suppress(OSError):  # EIO once the terminal's last writer has gone
            while chunk := screen.read(4096):
                drawn += chunk
    assert process.returncode == 2
    assert b"2/2 done, 0 running, 0 pending, 2 failed" in drawn
    assert drawn.endswith(b"\r\x1b[K")  # erased before the summary
    assert "done," not in out and out.splitlines()[-1] == "2 machines: 2 failed (web-[1-2])"
