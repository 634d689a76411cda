"""The server's firing loop killed (SIGKILL) in the middle of a fire of a server-fired schedule
(a Period task with rollout limits): after the restart the fire under way finishes with its
limits, every target runs once per fire, none twice, and the fires that fell due while no
server ran are skipped (a record each in the history) instead of run late."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.integration.test_rollout_schedules import FAST, _history, _stop
from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Cluster, wait_until
from tests.support.run_log import RunLog, most_at_once

GRACE_S = 5  # a fire later than this is skipped
DOWN_S = 3 * GRACE_S  # the server stays down at least this long: fires fall due meanwhile
TARGETS = 3


restarted = module_cluster("refire", {**FAST, "OPENASSIST_MISSED_FIRE_GRACE_S": str(GRACE_S)})


def _between_fires(cluster: Cluster, invoke_id: str, after: int) -> dict[str, Any] | None:
    """The task once a fire after fire ``after`` is over: every target waits Scheduled (all its
    runs reported) and no fire began while looking."""
    task = cluster.task(invoke_id)
    if task["Fires"] <= after:
        return None
    if any(r["InvocationStatus"] != "Scheduled" for r in cluster.results(invoke_id)):
        return None
    return task if cluster.task(invoke_id)["Fires"] == task["Fires"] else None


def test_a_server_killed_mid_fire_resumes_the_schedule_with_its_limits(
    restarted: Cluster, tmp_path: Path
) -> None:
    agents = [restarted.new_agent(f"refire-{n}") for n in range(TARGETS)]
    log = RunLog.made_in(tmp_path)
    targets = {f"InstanceId.{n}": a.instance_id for n, a in enumerate(agents, start=1)}
    invoke_id = restarted.run(
        log.script("sleep 1", with_instance_id=True),
        EnableParameter="true",
        Frequency="rate(10s)",
        Timeout="5",
        MaxConcurrency="1",
        **targets,
    )

    def mid_fire() -> dict[str, Any] | None:
        task = restarted.task(invoke_id)
        # One target running, one still held back by MaxConcurrency.
        busy = task["Fires"] >= 1 and task["TargetsRunning"] == 1
        return task if busy and log.runs() and task["TargetsWaiting"] >= 1 else None

    killed_in = wait_until(mid_fire, 60, interval_s=0.2, what="a fire under way")["Fires"]
    restarted.kill_server()
    time.sleep(DOWN_S)  # no server: fires fall due (at least one, 10 s apart) and are missed
    restarted.restart_server()

    task = wait_until(
        lambda: _between_fires(restarted, invoke_id, killed_in), 120, what="a fire after restart"
    )
    runs = log.runs()
    history = _history(restarted, invoke_id)
    _stop(restarted, invoke_id)
    assert most_at_once(runs) <= 1  # MaxConcurrency held across the restart (agents' clocks)
    # The fires due while the server was down are kept as skipped, once per target.
    down = "skipped: no server was running"
    skipped = [r for r in history if r["ErrorInfo"].startswith(down)]
    assert Counter(r["InstanceId"] for r in skipped) == dict.fromkeys(targets.values(), 1)
    assert {r["InvocationStatus"] for r in skipped} == {"Cancelled"}
    # Every fire, the interrupted one included, left one record per target: its run, or why
    # it had none (its run of the last fire not reported yet, held back into the next): no
    # fire lost. The runs recorded are the runs the agents made: none twice.
    fired = [r for r in history if not r["ErrorInfo"].startswith(down)]
    assert Counter(r["InstanceId"] for r in fired) == dict.fromkeys(targets.values(), task["Fires"])
    ran = Counter(r["InstanceId"] for r in fired if not r["ErrorInfo"].startswith("skipped"))
    assert ran == Counter(r.instance_id for r in runs)
