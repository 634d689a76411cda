"""Timed tasks end to end: Period (cron, rate, at) runs on the agent's clock, kept as history,
never overlapping, stopped on every instance; reboot tasks run on a new boot; the per-instance
schedule codes caused for real. The minimum intervals are lowered for this deployment."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Agent, Cluster, wait_until

NEVER = "0 0 0 1 1 ? 2099 UTC"  # a valid schedule whose first run is far away
FAST = {
    "OPENASSIST_MIN_RATE_INTERVAL_S": "1",
    "OPENASSIST_MIN_CRON_INTERVAL_S": "1",
    "OPENASSIST_DELIVERY_TIMEOUT_S": "8",
    "OPENASSIST_SWEEP_INTERVAL_S": "1",
}


timed = module_cluster("timed", FAST)


@pytest.fixture(scope="module")
def agent(timed: Cluster) -> Agent:
    return timed.new_agent("scheduler")


def _instance(cluster: Cluster, invoke_id: str) -> dict[str, Any]:
    return dict(cluster.task(invoke_id)["InvokeInstances"]["InvokeInstance"][0])


def _history(cluster: Cluster, invoke_id: str, **extra: str) -> list[dict[str, Any]]:
    answer = cluster.call(
        "DescribeInvocationResults",
        InvokeId=invoke_id,
        IncludeHistory="true",
        ContentEncoding="PlainText",
        MaxResults="50",
        **extra,
    )
    return list(answer["Invocation"]["InvocationResults"]["InvocationResult"])


def _repeats_at_least(cluster: Cluster, invoke_id: str, count: int, timeout_s: float = 60) -> None:
    wait_until(
        lambda: _instance(cluster, invoke_id)["Repeats"] >= count,
        timeout_s,
        what=f"{invoke_id} to run {count} times",
    )


def _held(agent: Agent, invoke_id: str) -> bool:
    path = agent.state_dir / "schedules.json"
    return path.exists() and invoke_id in path.read_text()


def _stop_and_wait(cluster: Cluster, agent: Agent, invoke_id: str) -> dict[str, Any]:
    cluster.call("StopInvocation", InvokeId=invoke_id)
    [result] = cluster.wait_final(invoke_id)
    wait_until(lambda: not _held(agent, invoke_id), 30, what="the agent to drop the schedule")
    return result


def test_cron_task_runs_on_schedule_and_keeps_every_run(timed: Cluster, agent: Agent) -> None:
    invoke_id = timed.run("echo tick", agent.instance_id, Frequency="0/2 * * * * ?", Timeout="1")
    # Five runs take longer than the delivery timeout: a Scheduled row is never swept.
    _repeats_at_least(timed, invoke_id, 5)
    task, row = timed.task(invoke_id), _instance(timed, invoke_id)
    assert (task["RepeatMode"], task["Frequency"], task["Timed"]) == (
        "Period",
        "0/2 * * * * ?",
        True,
    )
    assert task["InvocationStatus"] in ("Scheduled", "Running")
    assert row["InvocationStatus"] in ("Scheduled", "Running") and row["Timed"] is True
    assert row["NextRunTime"] > row["StartTime"]
    runs = _history(timed, invoke_id)
    assert len(runs) >= 5
    assert {r["Output"] for r in runs} == {"tick\n"}
    assert {r["InvokeRecordStatus"] for r in runs} == {"Finished"}
    assert len({r["StartTime"] for r in runs}) == len(runs)
    finished = _history(timed, invoke_id, InvokeRecordStatus="Failed")
    assert finished == []
    result = _stop_and_wait(timed, agent, invoke_id)
    assert result["InvocationStatus"] in ("Cancelled", "Terminated")
    assert timed.task(invoke_id)["InvocationStatus"] == "Stopped"
    # The stop adds a run only if it cut one short: Repeats counts exactly the runs kept.
    assert _instance(timed, invoke_id)["Repeats"] == len(_history(timed, invoke_id))
    assert timed.task(invoke_id)["Timed"] is False


def test_a_fire_during_a_long_run_is_skipped_and_recorded(timed: Cluster, agent: Agent) -> None:
    # The run ignores SIGTERM: it lasts its 1 s timeout plus the 2 s grace before SIGKILL, so
    # the fire 2 s after it started finds it still going.
    script = "trap '' TERM; while :; do sleep 0.2; done"
    invoke_id = timed.run(script, agent.instance_id, Frequency="rate(2s)", Timeout="1")

    def skipped_and_timed_out() -> tuple[dict[str, Any], dict[str, Any]] | None:
        runs = _history(timed, invoke_id)
        skips = [r for r in runs if r["InvocationStatus"] == "Cancelled"]
        timeouts = [r for r in runs if r["ErrorCode"] == "ExecutionTimeout"]
        return (skips[-1], timeouts[-1]) if skips and timeouts else None

    skip, timeout = wait_until(skipped_and_timed_out, 60, what="a skipped and a timed-out run")
    assert skip["ErrorInfo"].startswith("skipped")
    assert skip["InvokeRecordStatus"] == "Stopped"
    assert (timeout["InvocationStatus"], timeout["InvokeRecordStatus"]) == ("Timeout", "Failed")
    assert skip["StartTime"] > timeout["StartTime"]
    _stop_and_wait(timed, agent, invoke_id)


def test_at_task_runs_once_then_ends(timed: Cluster, agent: Agent) -> None:
    moment = datetime.now(UTC) + timedelta(seconds=3)
    frequency = f"at({moment:%Y-%m-%d %H:%M:%S} GMT+0:00)"
    invoke_id = timed.run("echo once", agent.instance_id, Frequency=frequency)
    [result] = timed.wait_final(invoke_id)
    assert (result["InvocationStatus"], result["Output"], result["Repeats"]) == (
        "Success",
        "once\n",
        1,
    )


def _soon(seconds: int) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)


def _frozen_until_past(
    timed: Cluster, agent: Agent, moment: datetime, **params: str
) -> dict[str, Any]:
    """Create the task while the agent is frozen; thaw it once ``moment`` is past."""
    agent.freeze()
    try:
        invoke_id = timed.run("echo late", agent.instance_id, **params)
        wait_until(lambda: datetime.now(UTC) > moment + timedelta(seconds=1), 30, interval_s=0.2)
    finally:
        agent.thaw()
    [result] = timed.wait_final(invoke_id)
    return result


def test_cron_with_no_run_left_on_the_instance_is_expired(timed: Cluster, agent: Agent) -> None:
    moment = _soon(3)
    cron = f"{moment:%S %M %H %d %m} ? {moment:%Y} UTC"
    result = _frozen_until_past(timed, agent, moment, Frequency=cron)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", "CronExpressionExpired")


def test_at_time_past_on_the_instance_is_expired(timed: Cluster, agent: Agent) -> None:
    moment = _soon(3)
    result = _frozen_until_past(timed, agent, moment, Frequency=f"at({moment:%Y-%m-%d %H:%M:%S})")
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", "AtExpressionExpired")


def test_a_damaged_zone_database_is_timezone_information_corrupt(
    timed: Cluster, tmp_path: Path
) -> None:
    zones = tmp_path / "zoneinfo"
    (zones / "Europe").mkdir(parents=True)
    (zones / "Europe" / "Berlin").write_bytes(b"TZif2\x00 this file was cut short")
    broken = timed.new_agent("broken-tzdata", env={"PYTHONTZPATH": str(zones)})
    invoke_id = timed.run("echo never", broken.instance_id, Frequency="0 0 1 * * ? Europe/Berlin")
    [result] = timed.wait_final(invoke_id)
    assert (result["InvocationStatus"], result["ErrorCode"]) == (
        "Invalid",
        "TimezoneInformationCorrupt",
    )
    assert result["Output"] == ""


@pytest.mark.parametrize(
    ("frequency", "code"),
    [
        ("0 0 1 * *", "BadCronExpression"),
        ("0/5 * * * * ? 2099 UTC", "BadCronExpression"),  # runs closer than the 60 s Timeout
        ("0 0 1 * * ? 2020", "CronExpressionExpired"),
        ("0 0 1 * * ? GMT+8", "InvalidGMTOffsetForTimezone"),
        ("0 0 1 * * ? GMT+08:00", "InvalidGMTOffsetHourForTimezone"),
        ("0 0 1 * * ? GMT+8:75", "InvalidGMTOffsetMinuteForTimezone"),
        ("0 0 1 * * ? Atlantis/Capital", "TimezoneInformationCorrupt"),
        ("rate(five minutes)", "InvalidRateExpression"),
        ("rate(30s)", "RateFrequencyTooLarge"),  # not longer than the Timeout
        ("at(2030-02-30 10:00:00)", "InvalidAtExpression"),
        ("at(2020-01-01 00:00:00)", "AtExpressionExpired"),
    ],
)
def test_the_api_refuses_what_it_can_tell(
    timed: Cluster, agent: Agent, frequency: str, code: str
) -> None:
    with pytest.raises(ApiCallError) as refused:
        timed.run("echo x", agent.instance_id, Frequency=frequency, Timeout="60")
    assert (refused.value.code, refused.value.status) == ("InvalidParam.Frequency", 400)
    assert refused.value.message.startswith(f"{code}:")


def test_period_without_frequency_is_missing_param(timed: Cluster, agent: Agent) -> None:
    with pytest.raises(ApiCallError) as refused:
        timed.run("echo x", agent.instance_id, RepeatMode="Period")
    assert refused.value.code == "MissingParam.Frequency"


def test_include_history_needs_a_timed_task(timed: Cluster, agent: Agent) -> None:
    invoke_id = timed.run("echo once", agent.instance_id)
    with pytest.raises(ApiCallError) as refused:
        _history(timed, invoke_id)
    assert refused.value.code == "InvalidParameter.IncludeHistory"


def test_dry_run_checks_and_runs_nothing(timed: Cluster, agent: Agent) -> None:
    with pytest.raises(ApiCallError) as passed:
        timed.run("echo x", agent.instance_id, RepeatMode="DryRun")
    assert (passed.value.code, passed.value.status) == ("DryRunOperation", 400)
    silent = timed.register_agent("never-started")
    with pytest.raises(ApiCallError) as failed:
        timed.run("echo x", silent.instance_id, RepeatMode="DryRun")
    assert (failed.value.code, failed.value.status) == ("ClientNotRunning", 403)
    listed = timed.call("DescribeInvocations", InstanceId=agent.instance_id, MaxResults="50")
    assert all(i["RepeatMode"] != "DryRun" for i in listed["Invocations"]["Invocation"])


def test_reboot_tasks_run_on_a_new_boot(timed: Cluster) -> None:
    machine = timed.new_agent("rebooting", env={"OPENASSIST_AGENT_BOOT_ID": "boot-1"})
    once = timed.run("echo next", machine.instance_id, RepeatMode="NextRebootOnly")
    every = timed.run("echo every", machine.instance_id, RepeatMode="EveryReboot")
    for invoke_id in (once, every):
        row = _instance(timed, invoke_id)
        assert (row["InvocationStatus"], row["Repeats"], row["Timed"]) == ("Scheduled", 0, True)
    for runs, boot in enumerate(("boot-2", "boot-3"), start=1):
        machine.stop()
        timed.start_agent(machine, env={"OPENASSIST_AGENT_BOOT_ID": boot})
        wait_until(lambda n=runs: len(_history(timed, every)) == n, 30, what="a boot run")
    [result] = timed.wait_final(once)
    assert (result["InvocationStatus"], result["Output"], result["Repeats"]) == (
        "Success",
        "next\n",
        1,
    )
    assert [r["Output"] for r in _history(timed, every)] == ["every\n", "every\n"]
    wait_until(lambda: _instance(timed, every)["InvocationStatus"] == "Scheduled", 30)
    timed.call("StopInvocation", InvokeId=every)
    [stopped] = timed.wait_final(every)
    assert stopped["InvocationStatus"] == "Cancelled"
    listed = timed.call("DescribeInvocations", RepeatMode="EveryReboot", Timed="false")
    assert every in {i["InvokeId"] for i in listed["Invocations"]["Invocation"]}


def test_schedules_survive_an_agent_restart(timed: Cluster) -> None:
    machine = timed.new_agent("restarting")
    invoke_id = timed.run("echo again", machine.instance_id, Frequency="rate(2s)", Timeout="1")
    _repeats_at_least(timed, invoke_id, 2)
    machine.stop()
    before = _instance(timed, invoke_id)["Repeats"]
    timed.start_agent(machine)
    _repeats_at_least(timed, invoke_id, before + 2)
    _stop_and_wait(timed, machine, invoke_id)


def _cli(cluster: Cluster, tmp_path: Path, *args: str) -> str:
    credentials = tmp_path / "credentials.json"
    credentials.write_text(
        json.dumps(
            {
                "AccessKeyId": cluster.credentials.access_key_id,
                "AccessKeySecret": cluster.credentials.access_key_secret,
                "Endpoint": cluster.endpoint,
                "RegionId": cluster.credentials.region_id,
            }
        )
    )
    command = [sys.executable, "-m", "openassist.cli.main", *args]
    result = subprocess.run(
        [*command, "--credentials", str(credentials)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_cli_starts_a_schedule_and_shows_its_next_run(
    timed: Cluster, agent: Agent, tmp_path: Path
) -> None:
    started = _cli(timed, tmp_path, "run", "echo hi", "-i", agent.instance_id, "--frequency", NEVER)
    invoke_id = started.split()[1]
    wait_until(lambda: _instance(timed, invoke_id)["InvocationStatus"] == "Scheduled", 30)
    listing = _cli(timed, tmp_path, "invocations", "--limit", "50")
    [line] = [row for row in listing.splitlines() if row.startswith(invoke_id)]
    assert "Scheduled" in line and "Period" in line and "2099-01-01T00:00:00Z" in line
    _stop_and_wait(timed, agent, invoke_id)


def test_runs_go_on_while_the_server_is_down(timed: Cluster, tmp_path: Path) -> None:
    machine = timed.new_agent("cut-off")
    marks = tmp_path / "runs"
    invoke_id = timed.run(
        f"date +%s%N >> {marks}", machine.instance_id, Frequency="rate(2s)", Timeout="1"
    )
    _repeats_at_least(timed, invoke_id, 1)
    timed.kill_server()
    try:
        seen = len(marks.read_text().splitlines())
        wait_until(lambda: len(marks.read_text().splitlines()) >= seen + 3, 30, what="runs")
        # The agent restarts while the server is still away: the reports it had not sent wait
        # in its journal, and its schedule goes on from its schedule file.
        machine.stop()
        timed.start_agent(machine, wait_online=False)
        seen = len(marks.read_text().splitlines())
        wait_until(lambda: len(marks.read_text().splitlines()) >= seen + 2, 30, what="runs")
    finally:
        restarted_at = time.time()
        timed.restart_server()
    # Every run made while the server was away (the agent's restart included) is reported: its
    # start shows in the history. Runs after the cut-off second may still be on their way.
    cutoff = int(restarted_at) - 2
    made = sum(1 for line in marks.read_text().splitlines() if int(line) // 10**9 < cutoff)

    def reported_before_cutoff() -> bool:
        starts = [
            datetime.strptime(run["StartTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            for run in _history(timed, invoke_id)
            if run.get("StartTime") and not run["ErrorInfo"].startswith("skipped")
        ]
        return sum(1 for start in starts if start.timestamp() < cutoff) >= made

    wait_until(reported_before_cutoff, 60, what="the runs made while away to be reported")
    ran = len(marks.read_text().splitlines())
    _repeats_at_least(timed, invoke_id, ran)  # every run made while away was reported
    assert len(_history(timed, invoke_id)) >= ran
    _stop_and_wait(timed, machine, invoke_id)
