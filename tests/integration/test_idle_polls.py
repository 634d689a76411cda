"""An agent's task-list poll that finds nothing writes nothing (issue 20).

Our agent polls its task list every minute besides its kicks; at 10,000 agents that is 167 polls
a second, nearly all finding nothing. Each one claimed in two write transactions (tasks, files)
of the single SQLite writer; now one read answers it, and the claims run only when it finds
something. A real server and a real agent identity over loopback TLS; the server's own count of
write transactions (/metrics).
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.cluster import Cluster
from tests.support.held_agent import HeldAgent

POLLS = 10


def _writes(cluster: Cluster) -> float:
    answer = httpx.get(f"http://{cluster.endpoint}/metrics", timeout=30)
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if (
                sample.name == "openassist_db_transaction_seconds_count"
                and sample.labels.get("kind") == "write"
            ):
                return sample.value
    raise AssertionError("no write transactions counted")


def test_a_poll_that_finds_nothing_writes_only_its_replay_mark(cluster: Cluster) -> None:
    held = HeldAgent(cluster)
    held.heartbeat()
    before = _writes(cluster)
    for _ in range(POLLS):
        assert held.task_list().run == []
    # One write per signed request (its replay mark); the claims wrote two more before.
    assert _writes(cluster) - before < 2 * POLLS  # 3 * POLLS before
    invoke_id = cluster.run("echo hi", held.instance_id)
    assert [item.task.taskID for item in held.task_list().run] == [invoke_id]
