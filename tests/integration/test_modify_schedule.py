"""ModifyInvocationAttribute: a running schedule takes new content, parameters and frequency
(the agents replace the schedule they hold), gains instances, and every documented refusal
that this server can meet is answered with its code."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openassist.cli.api_client import ApiCallError
from tests.integration.test_schedules import FAST, _history, _instance
from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Agent, Cluster, wait_until

NEVER = "0 0 1 1 1 ? 2099"  # a valid schedule whose first run is far away


timed = module_cluster("modify", FAST)


@pytest.fixture(scope="module")
def agent(timed: Cluster) -> Agent:
    return timed.new_agent("modified")


@pytest.fixture(scope="module")
def waiting(timed: Cluster, agent: Agent) -> str:
    """A Period task with a custom parameter, waiting for a run in 2099."""
    return timed.run(
        "echo {{greeting}}",
        agent.instance_id,
        Frequency=NEVER,
        EnableParameter="true",
        Parameters=json.dumps({"greeting": "hi"}),
    )


def _modify(cluster: Cluster, invoke_id: str, **params: str) -> dict[str, Any]:
    return cluster.call("ModifyInvocationAttribute", InvokeId=invoke_id, **params)


def test_a_running_schedule_takes_new_content_and_frequency(timed: Cluster, agent: Agent) -> None:
    invoke_id = timed.run("echo tick", agent.instance_id, Frequency=NEVER, Timeout="1")
    wait_until(lambda: _instance(timed, invoke_id)["InvocationStatus"] == "Scheduled", 30)
    old_command = timed.task(invoke_id)["CommandId"]
    answer = _modify(timed, invoke_id, CommandContent="echo tock", Frequency="0/2 * * * * ?")
    assert answer["CommandId"] != old_command
    wait_until(lambda: len(_history(timed, invoke_id)) >= 2, 60, what="runs of the new schedule")
    assert {r["Output"] for r in _history(timed, invoke_id)} == {"tock\n"}
    task = timed.task(invoke_id)
    assert (task["Frequency"], task["CommandId"]) == ("0/2 * * * * ?", answer["CommandId"])
    timed.call("StopInvocation", InvokeId=invoke_id)
    timed.wait_final(invoke_id)


def test_new_parameters_and_an_added_instance(timed: Cluster, agent: Agent) -> None:
    invoke_id = timed.run(
        "echo {{word}}",
        agent.instance_id,
        Frequency=NEVER,
        Timeout="1",
        EnableParameter="true",
        Parameters=json.dumps({"word": "first"}),
    )
    other = timed.new_agent("added")
    _modify(
        timed,
        invoke_id,
        Parameters=json.dumps({"word": "second"}),
        Frequency="rate(2s)",
        **{"InstanceId.1": other.instance_id},
    )
    rows = timed.task(invoke_id)["InvokeInstances"]["InvokeInstance"]
    assert {r["InstanceId"] for r in rows} == {agent.instance_id, other.instance_id}

    def both_ran() -> bool:
        runs = _history(timed, invoke_id)
        return {r["InstanceId"] for r in runs} == {agent.instance_id, other.instance_id}

    wait_until(both_ran, 60, what="runs on both instances")
    assert {r["Output"] for r in _history(timed, invoke_id)} == {"second\n"}
    timed.call("StopInvocation", InvokeId=invoke_id)
    assert len(timed.wait_final(invoke_id)) == 2


@pytest.mark.parametrize(
    ("params", "code", "status"),
    [
        ({"Frequency": "rate(5 weeks)"}, "InvalidParameter.Frequency", 400),
        (
            {"Parameters": '{"greeting": "a", "greeting": "b"}'},
            "InvalidParameters.KeyDuplicate",
            400,
        ),
        ({"Parameters": '{"other": "a"}'}, "InvalidParameters.KeyNotMatch", 400),
        ({"Parameters": '{"bad key": "a"}'}, "InvalidParameters.KeyMalformed", 400),
        ({"Parameters": '{"": "a"}'}, "InvalidParameters.KeyEmpty", 400),
        (
            {"Parameters": json.dumps({f"k{i}": "v" for i in range(11)})},
            "InvalidParameters.CountLimitExceeded",
            403,
        ),
        (
            {"Parameters": json.dumps({"k" * 65: "v"})},
            "InvalidParameters.KeyLengthLimitExceeded",
            403,
        ),
        ({"Parameters": '{"greeting": 5}'}, "InvalidParameters.ValueTypeUnsupported", 403),
        (
            {"CommandContent": "not base64!", "ContentEncoding": "Base64"},
            "InvalidCommandContent.DecodeError",
            400,
        ),
        ({"CommandContent": "x" * 30000}, "InvalidCommandContent.LengthLimitExceeded", 403),
        ({"InstanceId.1": "mi-000000000000000000000000"}, "InvalidInstanceId.NotFound", 404),
        (
            {f"InstanceId.{i}": f"mi-{i:024x}" for i in range(1, 102)},
            "InvalidInstanceId.CountLimitExceeded",
            403,
        ),
    ],
)
def test_refusals(
    timed: Cluster, waiting: str, params: dict[str, str], code: str, status: int
) -> None:
    with pytest.raises(ApiCallError) as refused:
        _modify(timed, waiting, **params)
    assert (refused.value.code, refused.value.status) == (code, status)
    assert timed.task(waiting)["InvocationStatus"] in ("Pending", "Scheduled")


def test_unknown_task_once_task_and_ended_task(timed: Cluster, agent: Agent) -> None:
    with pytest.raises(ApiCallError) as unknown:
        _modify(timed, "t-000000000000000000000000", Frequency="rate(5m)")
    assert (unknown.value.code, unknown.value.status) == ("InvalidInvokeId.NotFound", 404)
    once = timed.run("echo once", agent.instance_id)
    with pytest.raises(ApiCallError) as not_timed:
        _modify(timed, once, CommandContent="echo twice")
    assert not_timed.value.code == "InvalidOperation.RepeatModeUnsupported"
    ended = timed.run("echo x", agent.instance_id, Frequency=NEVER)
    timed.call("StopInvocation", InvokeId=ended)
    timed.wait_final(ended)
    with pytest.raises(ApiCallError) as finished:
        _modify(timed, ended, CommandContent="echo y")
    assert (finished.value.code, finished.value.status) == (
        "InvalidOperation.InvokeAlreadyFinished",
        403,
    )
