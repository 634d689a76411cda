"""The rollout options of the command line (README, "Rollouts"): ``openassist send-file`` takes
--max-concurrency, --max-errors, --batch-wait and --delivery-deadline as ``run`` does and shows
each batch and the spent budget; ``run`` takes --delivery-deadline; a bad value gets the API's
code and message, exit 1, no traceback. Real server, real agents."""

from __future__ import annotations

import os
import pwd
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from openassist.cli.outcome import ExitCode
from tests.support.cluster import Agent, Cluster, _child_env
from tests.support.run_log import RunLog

OWNER = pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> list[Agent]:
    return [cluster.new_agent(f"cli-rollout-{n}") for n in range(3)]


def _file_task(cluster: Cluster, invoke_id: str) -> dict[str, object]:
    [task] = cluster.call("DescribeSendFileResults", InvokeId=invoke_id)["Invocations"][
        "Invocation"
    ]
    return dict(task)


def _send_args(local: Path, target_dir: Path) -> list[str]:
    return ["send-file", str(local), "--to", str(target_dir), "--owner", OWNER, "--group", OWNER]


def test_send_file_rolls_out_one_at_a_time_and_shows_batches_and_the_spent_budget(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    # One directory for all: the first machine writes the file, the next finds it there and is
    # refused (no --overwrite), which spends --max-errors 0; the third never gets it.
    local = tmp_path / "app.conf"
    local.write_text("v2\n")
    delivered = tmp_path / "delivered"
    targets = [item for agent in fleet for item in ("-i", agent.instance_id)]
    done = cluster.cli(
        *_send_args(local, delivered),
        *targets,
        "--max-concurrency",
        "1",
        "--max-errors",
        "0",
        "--batch-wait",
        "1",
    )
    assert done.returncode == ExitCode.FAILED, done.stderr
    lines = done.stdout.splitlines()
    names = {a.instance_id: f"cli-rollout-{n}" for n, a in enumerate(fleet)}
    in_order = [names[i] for i in sorted(names)]  # the server lets targets go in id order
    batches = [line for line in lines if line.startswith("batch ")]
    assert batches == [
        f"batch 1 of 3 started: {in_order[0]}",
        f"batch 2 of 3 started: {in_order[1]}",
    ]
    [spent] = [line for line in lines if line.startswith("budget spent: ")]
    assert "more than MaxErrors=0 allows" in spent
    assert lines.index(spent) > lines.index(batches[-1])
    assert f"{in_order[1]}: Invalid, FileAlreadyExists: " in done.stdout
    assert lines[-1].startswith("3 machines: 1 succeeded (")
    assert "1 failed (" in lines[-1] and "1 not started (error budget spent)" in lines[-1]
    task = _file_task(cluster, lines[0].split()[1])
    assert (task["MaxConcurrency"], task["MaxErrors"], task["BatchWait"]) == ("1", "0", 1)
    assert (delivered / "app.conf").read_text() == "v2\n"


def test_send_file_waits_for_an_offline_machine_until_the_delivery_deadline(
    cluster: Cluster, tmp_path: Path
) -> None:
    agent = cluster.new_agent("cli-file-comes-back")
    agent.stop()  # without a deadline the file ends at once: ClientNotRunning
    local = tmp_path / "app.conf"
    local.write_text("queued\n")
    process = subprocess.Popen(
        cluster.cli_args(
            *_send_args(local, tmp_path / "out"),
            "-i",
            agent.instance_id,
            "--delivery-deadline",
            "600",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    try:
        assert process.stdout is not None
        invoke_id = process.stdout.readline().split()[1]  # "task f-... (1 machine)"
        task = _file_task(cluster, invoke_id)
        assert str(task["DeliveryDeadline"]).endswith("Z")
        cluster.start_agent(agent)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == ExitCode.OK, err
    assert out.splitlines()[-1] == "1 machine: 1 succeeded (cli-file-comes-back)"
    assert (tmp_path / "out" / "app.conf").read_text() == "queued\n"


def test_run_takes_a_delivery_deadline_as_seconds_or_a_utc_time(
    cluster: Cluster, tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    agent = cluster.new_agent("cli-run-deadline")
    agent.stop()
    # Past a 2-second deadline the machine ends unrun, with the code of its agent's state.
    late = cluster.cli(
        "run", log.script("true"), "-i", agent.instance_id, "--delivery-deadline", "2"
    )
    assert late.returncode == ExitCode.UNREACHED, late.stderr
    assert "cli-run-deadline: Aborted, ClientNotRunning: " in late.stdout
    assert "DeliveryDeadline" in late.stdout
    # A UTC time: the task keeps it; the machine back before it runs the script once.
    when = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    queued = cluster.cli(
        "run",
        log.script("true"),
        "-i",
        agent.instance_id,
        "--delivery-deadline",
        when,
        "--no-wait",
    )
    assert queued.returncode == ExitCode.OK, queued.stderr
    invoke_id = queued.stdout.split()[1]
    assert cluster.task(invoke_id)["DeliveryDeadline"] == when
    cluster.start_agent(agent)
    [row] = cluster.wait_final(invoke_id, timeout_s=60)
    assert row["InvocationStatus"] == "Success"
    assert len(log.runs()) == 1  # the first task never ran, the second once


@pytest.mark.parametrize(
    "command, option, value, code",
    [
        ("send-file", "--max-concurrency", "0", "InvalidRolloutLimit.Zero"),
        ("send-file", "--max-concurrency", "101%", "InvalidRolloutLimit.PercentTooLarge"),
        ("send-file", "--max-errors", "-3", "InvalidRolloutLimit.Negative"),
        ("send-file", "--max-errors", "ten", "InvalidRolloutLimit.Malformed"),
        ("send-file", "--batch-wait", "5", "InvalidRolloutLimit.BatchWaitWithoutConcurrency"),
        ("send-file", "--delivery-deadline", "soon", "InvalidDeliveryDeadline.Malformed"),
        ("send-file", "--delivery-deadline", "604801", "InvalidDeliveryDeadline.OutOfRange"),
        ("run", "--delivery-deadline", "2030-01-02 03:04:05", "InvalidDeliveryDeadline.Malformed"),
        ("run", "--delivery-deadline", "0", "InvalidDeliveryDeadline.OutOfRange"),
        (
            "run",
            "--delivery-deadline",
            "2000-01-01T00:00:00Z",
            "InvalidDeliveryDeadline.OutOfRange",
        ),
    ],
)
def test_a_bad_value_gets_the_api_code_and_message_and_exit_1(
    cluster: Cluster,
    fleet: list[Agent],
    tmp_path: Path,
    command: str,
    option: str,
    value: str,
    code: str,
) -> None:
    local = tmp_path / "app.conf"
    local.write_text("never sent\n")
    what = _send_args(local, tmp_path / "out") if command == "send-file" else ["run", "true"]
    done = cluster.cli(*what, "-i", fleet[0].instance_id, option, value)
    assert done.returncode == ExitCode.ERROR
    assert done.stdout == ""  # no task was started
    [line] = done.stderr.splitlines()  # one line, no traceback
    assert line.startswith(f"openassist: {code}: ") and line.endswith("(HTTP 400)")
    api_name = {"--max-concurrency": "MaxConcurrency", "--max-errors": "MaxErrors"}.get(
        option, "BatchWait" if option == "--batch-wait" else "DeliveryDeadline"
    )
    assert api_name in line  # the message names the parameter to fix
    assert not (tmp_path / "out").exists()
