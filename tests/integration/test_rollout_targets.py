"""A rollout's targets chosen by tag are resolved when it is created and recorded (README,
"Rollouts"): a machine tagged later is not added, and one deregistered while its turn waits ends
InstanceDeregistered without running; the rest of the rollout goes on."""

from __future__ import annotations

from pathlib import Path

from tests.support.cluster import Cluster, wait_until
from tests.support.run_log import RunLog


def _tag(cluster: Cluster, instance_ids: list[str], value: str) -> None:
    cluster.call(
        "TagResources",
        ResourceType="managedinstance",
        **{f"ResourceId.{n}": i for n, i in enumerate(instance_ids, start=1)},
        **{"Tag.1.Key": "wave", "Tag.1.Value": value},
    )


def test_tag_targets_are_fixed_at_creation_and_a_deregistered_one_ends_unrun(
    cluster: Cluster, tmp_path: Path
) -> None:
    log, gate = RunLog.made_in(tmp_path), tmp_path / "gate"
    agents = [cluster.new_agent(f"wave-{n}") for n in range(4)]
    first, held, last, later = agents
    _tag(cluster, [a.instance_id for a in (first, held, last)], "one")
    wait = f"while [ ! -e {gate} ]; do sleep 0.05; done"
    invoke_id = cluster.run(
        log.script(wait),
        MaxConcurrency="1",
        **{"ResourceTag.1.Key": "wave", "ResourceTag.1.Value": "one"},
    )
    recorded = {r["InstanceId"] for r in cluster.results(invoke_id)}
    assert recorded == {first.instance_id, held.instance_id, last.instance_id}
    wait_until(
        lambda: any(r["InvocationStatus"] == "Running" for r in cluster.results(invoke_id)),
        60,
        what="the first target to start",
    )
    [running] = [r for r in cluster.results(invoke_id) if r["InvocationStatus"] == "Running"]
    assert running["InstanceId"] == min(recorded)  # instance-id order
    waiting = sorted(recorded - {running["InstanceId"]})
    # Tagged now, it matches the tag, but the rollout's targets were fixed when it began.
    _tag(cluster, [later.instance_id], "one")
    gone = waiting[0]
    cluster.call("DeregisterManagedInstance", InstanceId=gone)
    gate.touch()
    results = {r["InstanceId"]: r for r in cluster.wait_final(invoke_id, timeout_s=120)}
    assert set(results) == recorded  # the machine tagged later was not added
    assert (results[gone]["InvocationStatus"], results[gone]["ErrorCode"]) == (
        "Aborted",
        "InstanceDeregistered",
    )
    assert results[gone]["StartTime"] in ("", None)
    others = [results[i]["InvocationStatus"] for i in sorted(recorded - {gone})]
    assert others == ["Success", "Success"]
    assert len(log.runs()) == 2  # the deregistered machine never ran it
    assert cluster.task(invoke_id)["TargetsDone"] == 3


def test_a_deregistered_target_of_a_file_rollout_ends_instance_deregistered(
    cluster: Cluster, tmp_path: Path
) -> None:
    agent = cluster.new_agent("file-wave")
    agent.stop()  # queued for its agent until the deadline
    invoke_id = cluster.call(
        "SendFile",
        Name="app.conf",
        TargetDir=str(tmp_path),
        Content="v2\n",
        DeliveryDeadline="600",
        MaxConcurrency="1",
        **{"InstanceId.1": agent.instance_id},
    )["InvokeId"]
    cluster.call("DeregisterManagedInstance", InstanceId=agent.instance_id)

    def ended() -> dict[str, str] | None:
        [task] = cluster.call("DescribeSendFileResults", InvokeId=invoke_id)["Invocations"][
            "Invocation"
        ]
        [row] = task["InvokeInstances"]["InvokeInstance"]
        return row if row["InvocationStatus"] != "Pending" else None

    row = wait_until(ended, 30, what="the file task to end")
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Aborted", "InstanceDeregistered")
    assert not (tmp_path / "app.conf").exists()
