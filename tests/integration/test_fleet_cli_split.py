"""``openassist run`` beyond RunCommand's 100 instances: several tasks, shown as one run. The
101 machines are registered for real (never started, so each ends ClientNotRunning at once)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from openassist.agent.registration import register
from tests.support.cluster import Cluster

MACHINES = 101


def _register_many(cluster: Cluster, root: Path) -> set[str]:
    activation = cluster.call(
        "CreateActivation",
        InstanceCount=str(MACHINES),
        **{"Tag.1.Key": "batch", "Tag.1.Value": "big"},
    )

    async def one(number: int) -> str:
        identity = await register(
            root / f"machine-{number}",
            f"127.0.0.1:{cluster.agent_port}",
            cluster.ca_file,
            activation["ActivationId"],
            activation["ActivationCode"],
            instance_name=f"node-{number:03d}",
        )
        return identity.instance_id

    async def every() -> list[str]:
        return list(await asyncio.gather(*(one(n) for n in range(1, MACHINES + 1))))

    return set(asyncio.run(every()))


def test_more_than_100_machines_make_several_tasks_shown_as_one(
    cluster: Cluster, tmp_path: Path
) -> None:
    ids = _register_many(cluster, tmp_path)
    done = cluster.cli("run", "--json", "true", "--tag", "batch=big", timeout_s=300)
    assert done.returncode == 3, done.stderr  # none of them is running: never reached
    document = json.loads(done.stdout)
    assert len(document["InvokeIds"]) == 2
    rows = document["InvocationResults"]
    assert {r["InstanceId"] for r in rows} == ids and len(rows) == MACHINES
    assert {r["ErrorCode"] for r in rows} == {"ClientNotRunning"}
    sizes = sorted(len(cluster.all_results(i)) for i in document["InvokeIds"])
    assert sizes == [1, 100]

    text = cluster.cli("run", "-b", "true", "--tag", "batch=big", timeout_s=300)
    first = text.stdout.splitlines()[0]
    assert first.startswith("task t-") and ", t-" in first and first.endswith("(101 machines)")
    assert "node-[001-101] (101): " in text.stdout
    assert text.stdout.splitlines()[-1] == "101 machines: 101 not reached (node-[001-101])"
