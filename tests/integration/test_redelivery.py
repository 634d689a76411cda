"""A task whose hand-out never reached the agent (the server was killed between the claim's
commit and its answer, the connection broke) is handed out again once its redelivery time
passed, and the agent is kicked then: with its kick channel up it polls only every ten minutes,
so nothing else would ask for it.

This is what kept test_report_crash's claims test waiting out its 300 s now and then: the agents
reconnected and fetched within the redelivery time of their lost hand-outs, were handed nothing,
and did not fetch again. Here the hand-out is taken with the agent's own key while it is frozen,
and the agent polls once an hour, so only a kick makes it fetch.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.support.agent_fetch import take_tasks
from tests.support.cluster import Cluster, temporary_postgres_database, wait_until

REDELIVER_S = 10  # beyond the thawed agent's own fetch (at its queued kick), on a loaded host
ENV = {"OPENASSIST_REDELIVER_AFTER_S": str(REDELIVER_S), "OPENASSIST_SWEEP_INTERVAL_S": "1"}
POLL = "3600"  # the agent's task-list poll: far beyond every wait below
WAIT_S = REDELIVER_S + 30


@pytest.fixture(params=BACKENDS)
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    with contextlib.ExitStack() as stack:
        url = ""
        if request.param == "postgres":
            url = stack.enter_context(temporary_postgres_database())
        yield stack.enter_context(Cluster.start(tmp_path / "cluster", url, ENV, log_level="info"))


def test_a_hand_out_whose_answer_was_lost_reaches_the_agent_when_its_redelivery_is_due(
    cluster: Cluster,
) -> None:

    agent = cluster.start_agent(cluster.register_agent("lost-answer"), args=["--poll", POLL])
    assert agent.process is not None
    wait_until(
        lambda: "kick channel open" in cluster.server_log.read_text(), 30, what="kick channel"
    )
    # Once a task through the open channel is done, so is the fetch the channel asked for.
    warm_up = cluster.run("true", agent.instance_id)
    assert cluster.wait_final(warm_up, WAIT_S)[0]["InvocationStatus"] == "Success"

    agent.process.send_signal(signal.SIGSTOP)
    lost: list[str] = []
    try:
        # A fetch the agent sent just before it froze may still be answered (a busy server
        # reads it after the next RunCommand) and take that task: then try another.
        for _attempt in range(3):
            invoke_id = cluster.run("echo again", agent.instance_id)
            taken = take_tasks(agent)  # committed as handed out; its answer goes nowhere
            if taken:
                break
            lost.append(invoke_id)
        assert taken == [invoke_id]
    finally:
        agent.process.send_signal(signal.SIGCONT)
    [row] = cluster.wait_final(invoke_id, WAIT_S)
    assert (row["InvocationStatus"], row["Output"]) == ("Success", "again\n")
    for earlier in lost:  # the agent took these itself: they ran
        assert cluster.wait_final(earlier, WAIT_S)[0]["InvocationStatus"] == "Success"
