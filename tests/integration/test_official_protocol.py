"""Conformance with the official Cloud Assistant agent's protocol.

Every endpoint is driven with the request shapes the official agent sends (recorded as data in
tests/fixtures/official_agent_requests.json: method, path, query keys, bodies), signed the way
it signs them. The driver below is a test client of ours, not a stand-in for the server.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from openassist.agent.identity import Identity
from openassist.agent.keys import new_key, private_pem, public_key_field
from openassist.agent.signing import RequestSigner
from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Cluster, wait_until

SHAPES: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "official_agent_requests.json").read_text()
)


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
    return template


class OfficialShapedAgent:
    """Sends the official agent's requests, shape for shape, to a real server."""

    def __init__(self, cluster: Cluster, tmp: Path) -> None:
        self.cluster = cluster
        self.machine_id = uuid.uuid4().hex
        self.tls = ssl.create_default_context(cafile=str(cluster.ca_file))
        self.http = httpx.Client(
            base_url=f"https://127.0.0.1:{cluster.agent_port}", verify=self.tls, timeout=10
        )
        self.tmp = tmp
        self.instance_id = ""
        self.signer: RequestSigner | None = None

    def register(self) -> dict[str, Any]:
        activation = self.cluster.call("CreateActivation", InstanceCount="1")
        key = new_key()
        (self.tmp / "instance.key").write_bytes(private_pem(key))
        shape = SHAPES["register"]
        body = _fill(
            shape["body"],
            {
                "activation_code": activation["ActivationCode"],
                "activation_id": activation["ActivationId"],
                "machine_id": self.machine_id,
                "public_key": public_key_field(key),
            },
        )
        answer: dict[str, Any] = self.http.post(shape["path"], content=json.dumps(body)).json()
        self.instance_id = answer.get("instanceId", "")
        identity = Identity(self.instance_id, self.machine_id, "127.0.0.1", 0, "local", self.tmp)
        self.signer = RequestSigner(identity)
        return answer

    def headers(self) -> dict[str, str]:
        assert self.signer is not None
        return {**self.signer.headers(), "User-Agent": "ALIYUN_ASSIST_OFFICIAL_SHAPE"}

    def send(self, name: str, **values: str) -> httpx.Response:
        shape = SHAPES[name]
        filled = _fill(
            shape, {"now_ms": str(int(time.time() * 1000)), "machine_id": self.machine_id, **values}
        )
        return self.http.request(
            filled["method"],
            filled["path"],
            params=filled.get("query"),
            content=filled.get("body", "").encode(),
            headers=self.headers(),
        )

    @contextlib.contextmanager
    def kick_channel(self) -> Iterator[ClientConnection]:
        """The kick channel; the server kicks once on connect (to fetch what was queued)."""
        shape = SHAPES["websocket"]
        with connect(
            f"wss://127.0.0.1:{self.cluster.agent_port}{shape['path']}",
            ssl=self.tls,
            additional_headers=self.headers(),
            open_timeout=10,
        ) as channel:
            assert channel.recv(timeout=10) == shape["kick"]
            yield channel


@pytest.fixture
def official(cluster: Cluster, tmp_path: Path) -> Iterator[OfficialShapedAgent]:
    agent = OfficialShapedAgent(cluster, tmp_path)
    registered = agent.register()
    assert registered["code"] == 200 and agent.instance_id.startswith("mi-")
    assert agent.send("heartbeat_first").json()["code"] == 200
    yield agent
    agent.http.close()


def _task(agent: OfficialShapedAgent, reason: str = "task_list_kickoff") -> dict[str, Any]:
    answer = agent.send(reason).json()
    assert answer["code"] == 200 and answer["instanceId"] == agent.instance_id
    [item] = answer["run"]
    return dict(item)


def test_registration_and_heartbeats(cluster: Cluster, official: OfficialShapedAgent) -> None:
    answer = official.send("heartbeat_full").json()
    assert answer["code"] == 200 and 55000 <= answer["nextInterval"] <= 65000
    [managed] = cluster.call("DescribeManagedInstances", **{"InstanceId.1": official.instance_id})[
        "Instances"
    ]
    assert (managed["OsType"], managed["AgentVersion"]) == ("Linux", "2.2.3.999")
    assert managed["Hostname"] == "official-host" and managed["Connected"] is True
    for name in ("metrics", "exception_report"):
        assert official.send(name).status_code == 200
    assert official.send("update_check").json()["need_update"] == 0
    assert official.send("state_configurations").json() == {"errCode": "", "result": {}}
    assert official.send("connection_detect").text == "ok"
    unsigned = official.http.post("/luban/api/metrics", content=b"{}")
    assert unsigned.status_code == 401


def test_kick_fetch_run_and_finish(cluster: Cluster, official: OfficialShapedAgent) -> None:
    with official.kick_channel() as channel:
        invoke_id = cluster.run("echo official", official.instance_id)
        assert channel.recv(timeout=10) == SHAPES["websocket"]["kick"]
        channel.send(SHAPES["websocket"]["reply"])
    item = _task(official)
    task = item["task"]
    assert task["taskID"] == invoke_id and task["type"] == "RunShellScript"
    assert task["timeOut"] == "60" and item["repeat"] == "Once"
    assert item["output"]["logQuota"] == 24576
    values = {
        "task_id": invoke_id,
        "invoke_version": str(task["invokeVersion"]),
        "start_ms": str(int(time.time() * 1000)),
    }
    assert official.send("verified", **values).status_code == 200
    official.send("running_start", **values)
    [result] = cluster.results(invoke_id)
    assert result["InvocationStatus"] == "Running"
    official.send("running_output", output="first part, ", **values)
    official.send(
        "finish",
        output="then the rest\n",
        exit_code="0",
        end_ms=str(int(time.time() * 1000)),
        **values,
    )
    [result] = cluster.results(invoke_id)
    assert result["InvocationStatus"] == "Success"
    assert result["Output"] == "first part, then the rest\n"  # running output + final part
    official.send("finish", output="again", exit_code="0", end_ms="1", **values)
    assert cluster.results(invoke_id)[0]["Output"] == "first part, then the rest\n"


def test_startup_fetch_timeout_and_error(cluster: Cluster, official: OfficialShapedAgent) -> None:
    timed = cluster.run("sleep 100", official.instance_id, Timeout="5")
    item = _task(official, "task_list_startup")
    values = {
        "task_id": timed,
        "invoke_version": str(item["task"]["invokeVersion"]),
        "start_ms": "1000",
        "end_ms": "6000",
    }
    official.send("timeout", output="", **values)
    [result] = cluster.results(timed)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Timeout", "ExecutionTimeout")

    failed = cluster.run("true", official.instance_id)
    _task(official)
    official.send(
        "error",
        task_id=failed,
        invoke_version="0",
        start_ms="0",
        end_ms="0",
        err_code="ExecutionException",
        err_desc="fork/exec /bin/sh: no such file",
    )
    [result] = cluster.results(failed)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ExecutionException")
    assert "fork/exec" in result["ErrorInfo"]


def test_invalid_report_maps_to_the_catalog(
    cluster: Cluster, official: OfficialShapedAgent
) -> None:
    invoke_id = cluster.run("pwd", official.instance_id, WorkingDir="/nope")
    _task(official)
    official.send(
        "invalid",
        task_id=invoke_id,
        invoke_version="0",
        param="workingDirectory",
        value="WorkingDirectoryNotExist: /nope",
    )
    [result] = cluster.results(invoke_id)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", "DirectoryNotExists")


def test_every_official_invalid_report_ends_with_its_catalog_code(
    cluster: Cluster, official: OfficialShapedAgent
) -> None:
    """Each param/value the official agent can send on ``invalid`` (the fixture lists them, with
    where in the agent they arise), end to end: the task ends Invalid with the catalog's code
    and the agent's words as the cause."""
    for case in SHAPES["invalid_params"]["cases"]:
        invoke_id = cluster.run("id", official.instance_id, Username="nobody2")
        item = _task(official)
        official.send(
            "invalid",
            task_id=invoke_id,
            invoke_version=str(item["task"]["invokeVersion"]),
            param=case["param"],
            value=case["value"],
        )
        [result] = cluster.results(invoke_id)
        assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", case["code"]), case
        assert case["param"] in result["ErrorInfo"] and case["value"] in result["ErrorInfo"]


def test_every_official_send_file_invalid_report_ends_with_its_catalog_code(
    cluster: Cluster, official: OfficialShapedAgent
) -> None:
    for case in SHAPES["file_invalid_params"]["cases"]:
        answer = cluster.call(
            "SendFile",
            Name="app.conf",
            Content="aGVsbG8=",
            ContentType="Base64",
            TargetDir="/tmp",
            **{"InstanceId.1": official.instance_id},
        )
        invoke_id = answer["InvokeId"]
        listed = official.send("task_list_kickoff").json()
        assert [f["task"]["taskID"] for f in listed["file"]] == [invoke_id]
        response = official.send(
            "file_invalid", task_id=invoke_id, param=case["param"], value=case["value"]
        )
        assert response.status_code == 200
        [result] = cluster.call("DescribeSendFileResults", InvokeId=invoke_id)["Invocations"][
            "Invocation"
        ][0]["InvokeInstances"]["InvokeInstance"]
        assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", case["code"]), case


def test_stop_travels_in_the_task_list(cluster: Cluster, official: OfficialShapedAgent) -> None:
    invoke_id = cluster.run("sleep 100", official.instance_id, Timeout="600")
    item = _task(official)
    values = {
        "task_id": invoke_id,
        "invoke_version": str(item["task"]["invokeVersion"]),
        "start_ms": "1000",
    }
    official.send("running_start", **values)
    with official.kick_channel() as channel:
        cluster.call("StopInvocation", InvokeId=invoke_id, **{"InstanceId.1": official.instance_id})
        assert channel.recv(timeout=10) == "kick_vm"
    answer = official.send("task_list_kickoff").json()
    assert [stop["task"]["taskID"] for stop in answer["stop"]] == [invoke_id]
    official.send("stopped", output="partial\n", end_ms="2000", **values)
    [result] = cluster.results(invoke_id)
    assert result["InvocationStatus"] == "Terminated"


def _history(cluster: Cluster, invoke_id: str) -> list[dict[str, Any]]:
    answer = cluster.call(
        "DescribeInvocationResults",
        InvokeId=invoke_id,
        IncludeHistory="true",
        ContentEncoding="PlainText",
        MaxResults="50",
    )
    return list(answer["Invocation"]["InvocationResults"]["InvocationResult"])


def _instance_row(cluster: Cluster, invoke_id: str) -> dict[str, Any]:
    answer = cluster.call("DescribeInvocations", InvokeId=invoke_id)
    return dict(answer["Invocations"]["Invocation"][0]["InvokeInstances"]["InvokeInstance"][0])


def _stop_periodic(cluster: Cluster, official: OfficialShapedAgent, invoke_id: str) -> None:
    cluster.call("StopInvocation", InvokeId=invoke_id, **{"InstanceId.1": official.instance_id})
    answer = official.send("task_list_kickoff").json()
    assert [stop["task"]["taskID"] for stop in answer["stop"]] == [invoke_id]


@pytest.mark.parametrize("cut_short", [False, True], ids=["idle", "mid-run"])
def test_stopping_a_periodic_task_counts_only_the_runs_kept(
    cluster: Cluster, official: OfficialShapedAgent, cut_short: bool
) -> None:
    """Three runs reported, then stopped: idle, the official agent sends ``stopped`` with the
    last run's times (no new run); mid-run, with the run it killed (one more run, Terminated)."""
    invoke_id = cluster.run(
        "echo tick", official.instance_id, RepeatMode="Period", Frequency="0 */5 * * * ?"
    )
    item = _task(official)
    assert item["repeat"] == "Period" and item["task"]["cron"]
    version = str(item["task"]["invokeVersion"])
    for run in range(3):
        start = 1_700_000_000_000 + run * 300_000
        official.send(
            "finish_cron",
            task_id=invoke_id,
            invoke_version=version,
            start_ms=str(start),
            end_ms=str(start + 50),
            exit_code="0",
            output="tick\n",
        )
    assert _instance_row(cluster, invoke_id)["Repeats"] == 3
    last_start = 1_700_000_000_000 + 2 * 300_000
    start = last_start + 300_000 if cut_short else last_start
    _stop_periodic(cluster, official, invoke_id)
    official.send(
        "stopped",
        task_id=invoke_id,
        invoke_version=version,
        start_ms=str(start),
        end_ms=str(start + 20),
        output="" if cut_short else "tick\n",
    )
    row, runs = _instance_row(cluster, invoke_id), _history(cluster, invoke_id)
    assert row["InvocationStatus"] == "Terminated"
    assert row["Repeats"] == len(runs) == (4 if cut_short else 3)
    assert [r["InvokeRecordStatus"] for r in runs].count("Finished") == 3


@pytest.mark.parametrize(
    ("fetch", "code"),
    [("task_list_startup", "ClientRestarted"), ("task_list_cold_start", "InstanceRestarted")],
)
def test_a_restarted_agent_ends_what_it_was_running_at_once(
    cluster: Cluster, official: OfficialShapedAgent, fetch: str, code: str
) -> None:
    """The official agent keeps nothing across a restart: its ``reason=startup`` fetch ends its
    started runs at once (``cold_start=true``: the machine rebooted), instead of Timeout + 60 s
    of silence and ClientNotResponse; its schedule is handed out again in that same answer."""
    once = cluster.run("sleep 500", official.instance_id, Timeout="600")
    period = cluster.run(
        "echo tick", official.instance_id, RepeatMode="Period", Frequency="0 */5 * * * ?"
    )
    first = official.send("task_list_kickoff").json()
    versions = {item["task"]["taskID"]: str(item["task"]["invokeVersion"]) for item in first["run"]}
    assert set(versions) == {once, period}
    for invoke_id in (once, period):
        values = {"task_id": invoke_id, "invoke_version": versions[invoke_id]}
        official.send("running_start", start_ms="1700000000000", **values)
    answer = official.send(fetch).json()  # the agent restarted
    [result] = cluster.results(once)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", code)
    assert "not run again" in result["ErrorInfo"]
    assert [item["task"]["taskID"] for item in answer["run"]] == [period]
    [run] = _history(cluster, period)
    assert (run["InvokeRecordStatus"], run["ErrorCode"]) == ("Failed", code)
    assert _instance_row(cluster, period)["InvocationStatus"] == "Scheduled"
    assert _instance_row(cluster, period)["Repeats"] == 1
    cluster.call("StopInvocation", InvokeId=period)


def test_diagnose_gives_the_official_agents_fix(
    cluster: Cluster, official: OfficialShapedAgent
) -> None:
    """An instance running the official agent is told that agent's service and log file, and
    that its timeout kills only ``sh``; not ours."""
    official.send("heartbeat_full")  # app_version: the official agent's bare version
    invoke_id = cluster.run("sleep 100 &", official.instance_id, Timeout="5")
    item = _task(official)
    values = {"task_id": invoke_id, "invoke_version": str(item["task"]["invokeVersion"])}
    official.send("timeout", output="", start_ms="1000", end_ms="6000", **values)
    official.send("task_list_startup")  # restarted: nothing of the ended run changes
    answer = cluster.call("DiagnoseInvocation", InvokeId=invoke_id)
    [diagnosis] = answer["Diagnoses"]["Diagnosis"]
    assert diagnosis["ErrorCode"] == "ExecutionTimeout"
    assert diagnosis["AgentVersion"] == "2.2.3.999"
    assert "only the `sh`" in diagnosis["RecommendedSolution"]
    restarted = cluster.run("sleep 100", official.instance_id, Timeout="600")
    item = _task(official)
    values = {"task_id": restarted, "invoke_version": str(item["task"]["invokeVersion"])}
    official.send("running_start", start_ms="1000", **values)
    official.send("task_list_startup")
    [diagnosis] = cluster.call("DiagnoseInvocation", InvokeId=restarted)["Diagnoses"]["Diagnosis"]
    assert diagnosis["ErrorCode"] == "ClientRestarted"
    solution = diagnosis["RecommendedSolution"]
    assert "/usr/local/share/aliyun-assist/2.2.3.999/log/aliyun_assist_main.log" in solution
    assert "openassist-agent" not in solution


def _full_output(cluster: Cluster, invoke_id: str, instance_id: str) -> dict[str, Any]:
    return cluster.call(
        "DescribeInvocationFullOutput",
        InvokeId=invoke_id,
        InstanceId=instance_id,
        ContentEncoding="PlainText",
        MaxBytes="100000",
    )


def test_full_output_says_what_the_official_agent_cut(
    cluster: Cluster, official: OfficialShapedAgent
) -> None:
    """Slow output past its quota: the official agent streams the first 6000 bytes, then sends
    only the last bytes that fit and says how many it dropped. The full output then holds what
    arrived (head and tail), gives the size produced, and says it is not complete."""
    invoke_id = cluster.run("yes | head -c 40000", official.instance_id)
    item = _task(official)
    values = {
        "task_id": invoke_id,
        "invoke_version": str(item["task"]["invokeVersion"]),
        "start_ms": "1000",
    }
    for _chunk in range(3):
        official.send("running_output", output="h" * 2000, **values)
    official.send(
        "finish_cut", output="t" * 18576, dropped="15424", exit_code="0", end_ms="9000", **values
    )
    answer = _full_output(cluster, invoke_id, official.instance_id)
    assert answer["Output"] == "h" * 6000 + "t" * 18576
    assert (answer["OutputSize"], answer["ProducedSize"]) == (24576, 40000)
    assert answer["Truncated"] is True and answer["Finished"] is True

    whole = cluster.run("echo all of it", official.instance_id)
    item = _task(official)
    values = {"task_id": whole, "invoke_version": str(item["task"]["invokeVersion"])}
    official.send("finish", output="all of it\n", exit_code="0", start_ms="1", end_ms="2", **values)
    answer = _full_output(cluster, whole, official.instance_id)
    assert (answer["OutputSize"], answer["ProducedSize"], answer["Truncated"]) == (10, 10, False)


def test_a_request_signed_for_another_instance_is_refused(
    cluster: Cluster, official: OfficialShapedAgent, tmp_path: Path
) -> None:
    other = OfficialShapedAgent(cluster, tmp_path / "other")
    (tmp_path / "other").mkdir()
    other.register()
    forged = {**other.headers(), "x-acs-instance-id": official.instance_id}
    response = official.http.get("/luban/api/heart-beat", headers=forged)
    assert response.status_code == 401
    other.http.close()


def test_deregistration_from_either_side(cluster: Cluster, official: OfficialShapedAgent) -> None:
    with official.kick_channel() as channel:
        cluster.call("DeregisterManagedInstance", InstanceId=official.instance_id)
        assert channel.recv(timeout=10) == "kick_vm agent deregister"
    # At once, before the agent's own deregister call, the instance is gone everywhere.
    official.send("heartbeat_full")  # a heartbeat still in flight changes nothing
    gone = {"InstanceId.1": official.instance_id}
    assert cluster.call("DescribeManagedInstances", **gone)["TotalCount"] == 0
    for action, params in (
        ("DescribeCloudAssistantStatus", {}),
        ("RunCommand", {"Type": "RunShellScript", "CommandContent": "id"}),
    ):
        with pytest.raises(ApiCallError) as refused:
            cluster.call(action, **params, **gone)
        assert (refused.value.status, refused.value.code) == (404, "InvalidInstance.NotFound")
    # The official agent then calls deregister itself: accepted, and it stays deregistered.
    assert official.send("deregister").json()["code"] == 200
    wait_until(
        lambda: official.send("heartbeat_full").status_code == 401,
        15,
        what="the deregistered instance to be refused",
    )


def _raw_request(agent: OfficialShapedAgent, target: bytes) -> tuple[int, bytes]:
    """POST ``target`` (exact bytes, as the official agent writes them) over TLS; the status
    and body of the answer."""
    head = b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
    for name, value in agent.headers().items():
        head += f"{name}: {value}\r\n".encode()
    with (
        socket.create_connection(("127.0.0.1", agent.cluster.agent_port), timeout=30) as plain,
        agent.tls.wrap_socket(plain, server_hostname="127.0.0.1") as secured,
    ):
        secured.sendall(head + b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := secured.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_raw_utf8_in_a_report_query_is_decoded(
    cluster: Cluster, official: OfficialShapedAgent
) -> None:
    """The official agent writes file, owner and group names into report queries unescaped
    (issue 14.2): the gateway takes the exact bytes and decodes them as UTF-8."""
    content = base64.b64encode(b"x = 1\n").decode()
    invoke_id = cluster.call(
        "SendFile",
        **{"InstanceId.1": official.instance_id},
        Name="配置.conf",
        TargetDir="/tmp/official",
        Content=content,
        ContentType="Base64",
    )["InvokeId"]
    [item] = official.send("task_list_kickoff").json()["file"]
    assert item["task"]["taskID"] == invoke_id
    shape = SHAPES["invalid_sendfile_raw"]
    query = _fill(
        shape["raw_query"], {"task_id": invoke_id, "param": "FileExist", "value": "配置.conf"}
    )
    target = f"{shape['path']}?{query}".encode()
    assert not target.isascii()
    status, body = _raw_request(official, target)
    assert status == 200, body
    answer = cluster.call("DescribeSendFileResults", InvokeId=invoke_id)
    row = answer["Invocations"]["Invocation"][0]["InvokeInstances"]["InvokeInstance"][0]
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Invalid", "FileAlreadyExists")
    assert row["ErrorInfo"] == "FileExist: 配置.conf"


def test_huge_numbers_in_a_report_are_taken_as_absent(
    cluster: Cluster, official: OfficialShapedAgent
) -> None:
    """Numbers no agent sends (times past the year 9999, exit codes past 32 bits) once reached
    the store and the date conversion: 500s. They now count as absent."""
    invoke_id = cluster.run("true", official.instance_id)
    item = _task(official)
    huge = "9" * 18
    values = {"task_id": invoke_id, "invoke_version": str(item["task"]["invokeVersion"])}
    assert official.send("running_start", start_ms=huge, **values).status_code == 200
    answer = official.send("finish", output="done", exit_code=huge, end_ms=huge, **values)
    assert answer.status_code == 200
    [result] = cluster.results(invoke_id)
    assert result["InvocationStatus"] in ("Success", "Failed") and result["Output"] == "done"
    assert not result["FinishedTime"].startswith("+")
