"""The console's pages over real HTTP against a real server and two real agents: filters, the
task page's tabs and diagnosis, the run, send-file and command forms, stop."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster, wait_until
from tests.support.console import csrf_of, signed_in, text_of

FAILING = 'test -z "$OA_CONSOLE_FAIL" || { echo "no disk for me"; exit 3; }; echo all good'


@pytest.fixture(scope="module")
def agents(cluster: Cluster) -> tuple[Agent, Agent]:
    good = cluster.new_agent("web-1", tags={"role": "web"})
    bad = cluster.new_agent(
        "db-1",
        env={"OA_CONSOLE_FAIL": "1", "OPENASSIST_AGENT_SCRIPT_ENV": "OA_CONSOLE_FAIL"},
        tags={"role": "db"},
    )
    return good, bad


@pytest.fixture
def client(cluster: Cluster) -> Iterator[httpx.Client]:
    with signed_in(cluster) as signed:
        yield signed


def _post_form(client: httpx.Client, page: str, target: str, **fields: str) -> httpx.Response:
    form = client.get(page)
    assert form.status_code == 200
    return client.post(target, data={"csrf": csrf_of(form.text), **fields})


def _invoke_id(answer: httpx.Response) -> str:
    assert answer.status_code == 303, text_of(answer.text)
    found = re.fullmatch(r"/console/invocations/(t-[0-9a-f]+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def test_task_page_has_outcome_tabs_and_the_recommended_solution(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client
) -> None:
    good, bad = agents
    invoke_id = cluster.run(FAILING, good.instance_id, bad.instance_id)
    cluster.wait_final(invoke_id)
    completed = text_of(client.get(f"/console/invocations/{invoke_id}?tab=completed").text)
    assert "Overall status: Partially failed" in completed
    assert "Task Completed (1)" in completed and "Execution failed (1)" in completed
    assert good.instance_id in completed and bad.instance_id not in completed
    assert "all good" in completed

    failed = text_of(client.get(f"/console/invocations/{invoke_id}?tab=failed").text)
    assert bad.instance_id in failed and good.instance_id not in failed
    assert "db-1" in failed and "no disk for me" in failed  # its row: name, first line

    # The machine's full card, one click from its row: code, cause, fix, output.
    card = text_of(client.get(f"/console/invocations/{invoke_id}/instances/{bad.instance_id}").text)
    assert "Error code: ExitCodeNonzero" in card
    assert "Exit code 3" in card
    assert "Recommended solution: The script ran and exited with the ExitCode shown." in card
    assert "no disk for me" in card and "Full output" in card

    first = text_of(client.get(f"/console/invocations/{invoke_id}").text)  # no tab asked for
    assert bad.instance_id in first and good.instance_id not in first  # the failures first

    full = client.get(f"/console/invocations/{invoke_id}/instances/{bad.instance_id}/output")
    assert full.status_code == 200 and full.text == "no disk for me\n"
    assert full.headers["content-type"].startswith("text/plain")
    fragment = client.get(f"/console/invocations/{invoke_id}?tab=failed&fragment=1")
    assert "<html" not in fragment.text and 'data-live-state="off"' in fragment.text


def test_results_list_filters(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client
) -> None:
    good, bad = agents
    ok_id = cluster.run("echo filter-ok", good.instance_id)
    failed_id = cluster.run(FAILING, bad.instance_id)
    cluster.wait_final(ok_id), cluster.wait_final(failed_id)

    def listed(**query: str) -> str:
        answer = client.get("/console/invocations", params=query)
        assert answer.status_code == 200
        return answer.text

    assert ok_id in listed() and failed_id in listed()
    assert listed().index(failed_id) < listed().index(ok_id)  # newest first
    assert ok_id not in listed(status="Failed") and failed_id in listed(status="Failed")
    assert ok_id in listed(status="Success") and failed_id not in listed(status="Success")
    assert ok_id in listed(instance=good.instance_id)
    assert failed_id not in listed(instance=good.instance_id)
    by_id = listed(invoke=failed_id)
    assert failed_id in by_id and ok_id not in by_id
    assert ok_id not in listed(**{"from": "2999-01-01T00:00"})
    assert ok_id in listed(**{"from": "2000-01-01T00:00", "to": "2999-01-01T00:00"})
    assert ok_id not in listed(to="2000-01-01T00:00")
    assert "No task matches." in listed(command="c-nosuchcommand")


def test_run_form_targets_by_tag_and_ticked_instances(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client
) -> None:
    good, bad = agents
    by_tag = _invoke_id(
        _post_form(client, "/console/run", "/console/run", content="echo tagged", tag="role=web")
    )
    [row] = cluster.wait_final(by_tag)
    assert row["InstanceId"] == good.instance_id and row["Output"] == "tagged\n"

    ticked = client.post(
        "/console/run",
        data={
            "csrf": csrf_of(client.get("/console/run").text),
            "content": "echo {{greeting}} from $(pwd)",
            "instance_id": [good.instance_id, bad.instance_id],
            "parameters": "greeting=hello",
            "working_dir": "/tmp",
            "Timeout": "30",
            "schedule": "once",
        },
    )
    results = cluster.wait_final(_invoke_id(ticked))
    assert sorted(r["InstanceId"] for r in results) == sorted([good.instance_id, bad.instance_id])
    assert {r["Output"] for r in results} == {"hello from /tmp\n"}


def test_run_form_shows_refusals_with_their_codes(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client
) -> None:
    good, _ = agents
    before = cluster.call("DescribeInvocations")["TotalCount"]
    periodic = _post_form(
        client,
        "/console/run",
        "/console/run",
        content="date",
        instance_id=good.instance_id,
        schedule="period",
        frequency="rate(5s)",
    )
    assert periodic.status_code == 400
    page = text_of(periodic.text)
    assert "InvalidParam.Frequency" in page and "RateFrequencyTooLarge" in page
    assert 'value="rate(5s)"' in periodic.text  # the form keeps what was typed
    empty = _post_form(
        client, "/console/run", "/console/run", content="  ", instance_id=good.instance_id
    )
    assert empty.status_code == 400 and "InvalidCommandText" in empty.text
    nobody = _post_form(client, "/console/run", "/console/run", content="date")
    assert nobody.status_code == 400 and "MissingParam.InstanceId" in nobody.text
    unknown = _post_form(
        client, "/console/run", "/console/run", content="date", instance_ids="mi-nosuch"
    )
    assert unknown.status_code == 400 and "InvalidInstance.NotFound" in unknown.text
    both = _post_form(
        client,
        "/console/run",
        "/console/run",
        content="date",
        instance_id=good.instance_id,
        tag="role=web",
    )
    assert both.status_code == 400 and "not both" in both.text
    untagged = _post_form(client, "/console/run", "/console/run", content="date", tag="role=none")
    assert untagged.status_code == 400
    assert "InvalidResourceTag.InstanceNotFound" in untagged.text
    bad_timeout = _post_form(
        client,
        "/console/run",
        "/console/run",
        content="date",
        instance_id=good.instance_id,
        Timeout="-5",
    )
    assert bad_timeout.status_code == 400 and "InvalidParameter.Timeout" in bad_timeout.text
    assert cluster.call("DescribeInvocations")["TotalCount"] == before


def test_stop_from_the_task_page(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client
) -> None:
    good, _ = agents
    invoke_id = cluster.run("echo started; sleep 300", good.instance_id, Timeout="600")
    wait_until(
        lambda: cluster.results(invoke_id)[0]["InvocationStatus"] == "Running",
        30,
        what="the task to run",
    )
    page = client.get(f"/console/invocations/{invoke_id}?tab=running")
    assert f"Stop on {good.instance_id}" in page.text and 'data-live-state="on"' in page.text
    stopped = client.post(
        f"/console/invocations/{invoke_id}/stop",
        data={"csrf": csrf_of(page.text), "instance_id": good.instance_id, "tab": "running"},
    )
    assert stopped.status_code == 303
    [row] = cluster.wait_final(invoke_id)
    assert row["InvocationStatus"] == "Terminated"
    done = text_of(client.get(f"/console/invocations/{invoke_id}?tab=stopped").text)
    assert "Stopped (1)" in done and good.instance_id in done


def test_stopping_a_whole_task_asks_first_with_the_running_count(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client
) -> None:
    good, bad = agents
    invoke_id = cluster.run("sleep 300", good.instance_id, bad.instance_id, Timeout="600")
    wait_until(
        lambda: {r["InvocationStatus"] for r in cluster.results(invoke_id)} == {"Running"},
        30,
        what="the task to run on both",
    )
    page = client.get(f"/console/invocations/{invoke_id}")
    asked = client.post(
        f"/console/invocations/{invoke_id}/stop",
        data={"csrf": csrf_of(page.text), "tab": "running"},
    )
    assert asked.status_code == 200
    question = text_of(asked.text)
    assert f"Stop task {invoke_id}?" in question
    assert "still running (or waiting to run) on 2 of its 2 machines" in question
    assert "Stop it on 2 machines" in question and "Cancel, keep it running" in question
    assert {r["InvocationStatus"] for r in cluster.results(invoke_id)} == {"Running"}
    confirmed = client.post(
        f"/console/invocations/{invoke_id}/stop",
        data={"csrf": csrf_of(asked.text), "tab": "running", "confirm": "yes"},
    )
    assert confirmed.status_code == 303
    assert {r["InvocationStatus"] for r in cluster.wait_final(invoke_id)} == {"Terminated"}


def test_instances_page_shows_agent_status_and_tags(
    agents: tuple[Agent, Agent], client: httpx.Client
) -> None:
    good, bad = agents
    listing = client.get("/console/instances").text
    assert good.instance_id in listing and bad.instance_id in listing
    assert "role=web" in listing and "role=db" in listing
    tagged = client.get("/console/instances", params={"tag": "role=db"}).text
    assert bad.instance_id in tagged and good.instance_id not in tagged
    one = text_of(client.get(f"/console/instances/{good.instance_id}").text)
    assert "Agent Online" in one and "role=web" in one and "Linux" in one
    assert client.get("/console/instances/mi-nosuch").status_code == 404


def _api_refusal(cluster: Cluster, action: str, **params: str) -> str:
    with pytest.raises(ApiCallError) as refused:
        cluster.call(action, **params)
    return f"{refused.value.code}: {refused.value.message}"


def _shows(answer: httpx.Response, refusal: str) -> bool:
    """The form came back refused, its error box saying ``Code: message``."""
    code, message = refusal.split(": ", 1)
    return answer.status_code == 400 and f"{code} : {message}" in unescape(text_of(answer.text))


def test_forms_refuse_with_the_api_code_and_message(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client, tmp_path: Path
) -> None:
    """Issue 15.4: the checks are the service's, so the console refuses what the API refuses,
    in the same words; a command name over 128 characters was cut silently before."""
    good, _ = agents
    long_name = "n" * 129
    named = _api_refusal(
        cluster, "CreateCommand", Name=long_name, Type="RunShellScript", CommandContent="ZGF0ZQ=="
    )
    assert named == "CmdName.ExceedLimit: The parameter Name is longer than 128 characters."
    created = _post_form(
        client, "/console/commands/new", "/console/commands/new", name=long_name, content="date"
    )
    assert _shows(created, named)
    assert not cluster.call("DescribeCommands", Name=long_name)["Commands"]["Command"]

    timeout = _api_refusal(
        cluster,
        "RunCommand",
        Type="RunShellScript",
        CommandContent="date",
        Timeout="-5",
        **{"InstanceId.1": good.instance_id},
    )
    run = _post_form(
        client,
        "/console/run",
        "/console/run",
        content="date",
        instance_id=good.instance_id,
        Timeout="-5",
    )
    assert _shows(run, timeout)

    file_fields = {"Name": "x", "TargetDir": str(tmp_path), "InstanceId.1": good.instance_id}
    for mode in ("4755", "0o644"):
        refused = _api_refusal(cluster, "SendFile", FileMode=mode, Content="x", **file_fields)
        sent = _post_form(
            client,
            "/console/sendfile",
            "/console/sendfile",
            name="x",
            target_dir=str(tmp_path),
            content="x",
            mode=mode,
            instance_id=good.instance_id,
        )
        assert _shows(sent, refused)
    big = "x" * (24 * 1024 + 1)  # over 32 KiB once Base64-encoded
    refused = _api_refusal(cluster, "SendFile", Content=big, **file_fields)
    assert refused.startswith("FileSize.ExceedLimit: Content is 32772 bytes")
    sent = _post_form(
        client,
        "/console/sendfile",
        "/console/sendfile",
        name="x",
        target_dir=str(tmp_path),
        content=big,
        instance_id=good.instance_id,
    )
    assert _shows(sent, refused)


def test_command_library_create_edit_invoke(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client
) -> None:
    good, _ = agents
    created = _post_form(
        client,
        "/console/commands/new",
        "/console/commands/new",
        name="console-hello",
        content="echo hello {{who}}",
        enable_parameter="on",
        Timeout="40",
    )
    assert created.status_code == 303
    command_id = re.search(r"c-[0-9a-f]+", created.headers["location"]).group(0)  # type: ignore[union-attr]
    edit_page = f"/console/commands/{command_id}"
    assert "console-hello" in client.get(edit_page).text
    edited = _post_form(
        client, edit_page, edit_page, name="console-greet", description="says hi", Timeout="45"
    )
    assert edited.status_code == 303
    [command] = cluster.call("DescribeCommands", CommandId=command_id)["Commands"]["Command"]
    assert (command["Name"], command["Timeout"], command["Description"]) == (
        "console-greet",
        45,
        "says hi",
    )
    assert "console-greet" in client.get("/console/commands").text
    invoked = _post_form(
        client,
        f"/console/run?command={command_id}",
        "/console/run",
        command_id=command_id,
        instance_id=good.instance_id,
        parameters="who=operator",
    )
    [row] = cluster.wait_final(_invoke_id(invoked))
    assert row["Output"] == "hello operator\n" and row["CommandId"] == command_id


def test_send_file_form(
    cluster: Cluster, agents: tuple[Agent, Agent], client: httpx.Client, tmp_path: Path
) -> None:
    good, _ = agents
    sent = _post_form(
        client,
        "/console/sendfile",
        "/console/sendfile",
        name="motd.txt",
        target_dir=str(tmp_path),
        content="welcome\n",
        mode="0640",
        owner="",
        group="",
        instance_id=good.instance_id,
    )
    assert sent.status_code == 303, text_of(sent.text)
    page = sent.headers["location"]
    assert page.startswith("/console/files/f-")
    wait_until(lambda: (tmp_path / "motd.txt").exists(), 30, what="the file to arrive")
    assert (tmp_path / "motd.txt").read_text() == "welcome\n"
    wait_until(lambda: "Task Completed" in client.get(page).text, 30, what="the file task")
    refused = _post_form(
        client,
        "/console/sendfile",
        "/console/sendfile",
        name="x",
        target_dir="relative",
        instance_id=good.instance_id,
    )
    assert refused.status_code == 400 and "FileTargetDir.Invalid" in refused.text
