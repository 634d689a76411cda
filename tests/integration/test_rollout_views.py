"""How a rollout is started and followed by hand: the console's run form takes BatchWait and
DeliveryDeadline beside the rollout limits, with the API's codes; the task page shows the
rollout's batches, its deadline and why it stopped; ``openassist run`` prints each batch as it
starts and the spent error budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cluster import Agent, Cluster
from tests.support.console import csrf_of, signed_in, text_of
from tests.support.run_log import RunLog


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> list[Agent]:
    return [cluster.new_agent(f"console-rollout-{n}") for n in range(3)]


def test_the_run_form_takes_batch_wait_and_delivery_deadline(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    with signed_in(cluster) as client:
        page = client.get("/console/run")
        assert 'name="batch_wait"' in page.text and 'name="delivery_deadline"' in page.text
        fields = {
            "csrf": csrf_of(page.text),
            "content": log.script("true"),
            "instance_id": [a.instance_id for a in fleet],
            "schedule": "once",
            "max_concurrency": "1",
            "batch_wait": "1",
            "delivery_deadline": "600",
        }
        started = client.post("/console/run", data=fields)
        assert started.status_code == 303, text_of(started.text)
        invoke_id = started.headers["location"].rsplit("/", 1)[-1]
        for name, value, code in (
            ("batch_wait", "3601", "InvalidParameter.BatchWait"),
            ("batch_wait", "soon", "InvalidParameter.BatchWait"),
            ("delivery_deadline", "tomorrow", "InvalidDeliveryDeadline.Malformed"),
            ("delivery_deadline", "0", "InvalidDeliveryDeadline.OutOfRange"),
        ):
            bad = client.post("/console/run", data={**fields, name: value})
            assert bad.status_code == 400 and code in bad.text, (name, value)
        alone = client.post("/console/run", data={**fields, "max_concurrency": ""})
        assert "InvalidRolloutLimit.BatchWaitWithoutConcurrency" in alone.text
    statuses = [r["InvocationStatus"] for r in cluster.wait_final(invoke_id, 120)]
    assert statuses == ["Success"] * 3
    assert len(log.runs()) == 3
    task = cluster.task(invoke_id)
    assert (task["BatchWait"], task["DeliveryDeadline"][-1]) == (1, "Z")
    with signed_in(cluster) as client:
        shown = text_of(client.get(f"/console/invocations/{invoke_id}").text)
    assert "Rollout: at most 1 at once, 1 s between batches." in shown
    assert "Batch 3 of 3." in shown
    assert "Machines offline wait for their agent until" in shown


def test_the_task_page_shows_the_batch_under_way_and_the_stop_reason(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    targets = {f"InstanceId.{n}": a.instance_id for n, a in enumerate(fleet, start=1)}
    invoke_id = cluster.run(log.script("false"), MaxConcurrency="1", MaxErrors="0", **targets)
    cluster.wait_final(invoke_id, 120)
    with signed_in(cluster) as client:
        shown = text_of(client.get(f"/console/invocations/{invoke_id}").text)
    assert "Rollout stopped: the error budget was spent: 1 target(s) failed" in shown
    assert "Batch " in shown and " of 3." in shown


def test_openassist_run_shows_each_batch_as_it_starts_and_the_spent_budget(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    targets = [item for agent in fleet for item in ("-i", agent.instance_id)]
    done = cluster.cli(
        "run",
        log.script("false"),
        *targets,
        "--max-concurrency",
        "1",
        "--max-errors",
        "1",
        "--batch-wait",
        "0",
    )
    assert done.returncode == 2, done.stderr
    lines = done.stdout.splitlines()
    batches = [line for line in lines if line.startswith("batch ")]
    # One machine a batch: the second failure spends the budget, the third never starts.
    assert batches and batches[-1].startswith("batch 2 of 3 started: ")
    started = ", ".join(line.split(": ", 1)[1] for line in batches).split(", ")
    names = {a.instance_id: f"console-rollout-{n}" for n, a in enumerate(fleet)}
    assert sorted(started) == sorted(names[i] for i in sorted(names)[:2])  # instance-id order
    [spent] = [line for line in lines if line.startswith("budget spent: ")]
    assert "the error budget was spent: 2 target(s) failed" in spent
    assert lines.index(spent) > lines.index(batches[-1])
    assert len(log.runs()) == 2
