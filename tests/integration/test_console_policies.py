"""The console shows and accepts only what the signed-in user's policies allow: a read-only
user (signed in with its access key) sees results but no Run, Stop or Send, and a forged form
post is refused as the API refuses it (Forbidden.RAM), with nothing written; sign-ins are
audit events."""

from __future__ import annotations

import httpx
import pytest
from alibabacloud_ram20150501 import models as ram

from tests.e2e.test_official_sdks import without_proxies
from tests.e2e.test_ram_sdk import READ_ONLY, ram_client
from tests.support.cluster import Cluster
from tests.support.console import console_client, csrf_of, sign_in, signed_in, text_of

__all__ = ["without_proxies"]


@pytest.fixture(scope="module")
def reader(cluster: Cluster) -> tuple[str, str]:
    admin = ram_client(cluster)
    admin.create_user(ram.CreateUserRequest(user_name="console-reader"))
    admin.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(
            policy_type="System", policy_name=READ_ONLY, user_name="console-reader"
        )
    )
    key = admin.create_access_key(
        ram.CreateAccessKeyRequest(user_name="console-reader")
    ).body.access_key
    return key.access_key_id, key.access_key_secret


def task_count(cluster: Cluster) -> int:
    return int(cluster.call("DescribeInvocations", MaxResults="50")["TotalCount"])


def test_a_read_only_user_sees_results_but_no_run_stop_or_send(
    cluster: Cluster, reader: tuple[str, str]
) -> None:
    instance_id = cluster.new_agent("console-target").instance_id
    invoke_id = cluster.run("sleep 60", instance_id)
    with signed_in(cluster) as admin:  # the first console user is the admin: everything
        shown = admin.get("/console/instances").text
        assert "Run command" in text_of(shown) and "Send file" in text_of(shown)
        running = admin.get(f"/console/invocations/{invoke_id}?tab=running").text
        assert "Stop the whole task" in text_of(running) and "/stop" in running
    with console_client(cluster) as client:
        assert sign_in(client, "key", *reader).status_code == 303
        page = client.get("/console/instances")
        assert page.status_code == 200 and instance_id in page.text
        assert "Run command" not in text_of(page.text) and "Send file" not in text_of(page.text)
        task = client.get(f"/console/invocations/{invoke_id}?tab=running")
        assert task.status_code == 200 and "console-target" in task.text
        assert "/stop" not in task.text and "Stop the whole task" not in text_of(task.text)
        results = client.get("/console/").text
        assert invoke_id in results
    cluster.call("StopInvocation", InvokeId=invoke_id)


def test_a_forged_post_by_a_read_only_user_is_refused_and_writes_nothing(
    cluster: Cluster, reader: tuple[str, str]
) -> None:
    instance_id = cluster.register_agent("console-forged").instance_id
    with console_client(cluster) as client:
        assert sign_in(client, "key", *reader).status_code == 303
        csrf = csrf_of(client.get("/console/instances").text + _signout_form(client))
        before = task_count(cluster)
        forged = {
            "csrf": csrf,
            "type": "RunShellScript",
            "content": "id",
            "instance_id": instance_id,
        }
        run = client.post("/console/run", data=forged)
        assert run.status_code == 403 and "ecs:RunCommand" in run.text, run.text
        send = client.post(
            "/console/sendfile",
            data={
                "csrf": csrf,
                "name": "f",
                "target_dir": "/tmp",
                "content": "x",
                "instance_id": instance_id,
            },
        )
        assert send.status_code == 403
        assert task_count(cluster) == before


def _signout_form(client: httpx.Client) -> str:
    """Every signed-in page carries the sign-out form and its token."""
    return client.get("/console/").text


def test_sign_ins_are_audit_events(cluster: Cluster, reader: tuple[str, str]) -> None:
    with console_client(cluster) as client:
        assert sign_in(client, "key", reader[0], "wrong-secret").status_code == 401
        assert sign_in(client, "key", *reader).status_code == 303
    events = cluster.call(
        "LookupEvents",
        **{"LookupAttribute.1.Key": "EventName", "LookupAttribute.1.Value": "ConsoleSignin"},
    )["Events"]
    assert any(
        e["errorCode"] == "InvalidCredentials" and e["userIdentity"]["accessKeyId"] == reader[0]
        for e in events
    )
    assert any(not e["errorCode"] for e in events)
    assert "wrong-secret" not in str(events)


def test_console_forms_are_audit_events_like_their_api_calls(
    cluster: Cluster, reader: tuple[str, str]
) -> None:
    instance_id = cluster.register_agent("console-audited").instance_id
    with signed_in(cluster) as admin:
        csrf = csrf_of(admin.get("/console/run").text)
        form = {"csrf": csrf, "type": "RunShellScript", "content": "echo from-console"}
        ran = admin.post("/console/run", data={**form, "instance_id": instance_id})
        assert ran.status_code == 303, ran.text
        task = admin.get(ran.headers["location"]).text
        assert "Run by" in text_of(task) and "admin" in text_of(task)
    with console_client(cluster) as client:
        assert sign_in(client, "key", *reader).status_code == 303
        csrf = csrf_of(client.get("/console/").text)
        forged = client.post(
            "/console/run", data={**form, "csrf": csrf, "instance_id": instance_id}
        )
        assert forged.status_code == 403
    events = cluster.call(
        "LookupEvents",
        **{"LookupAttribute.1.Key": "ResourceName", "LookupAttribute.1.Value": instance_id},
    )["Events"]
    console = [e for e in events if e["eventType"] == "ConsoleCall"]
    assert sorted((e["userIdentity"]["userName"], e["errorCode"]) for e in console) == [
        ("admin", ""),
        ("console-reader", "Forbidden.RAM"),
    ]
    assert all(e["eventName"] == "RunCommand" for e in console)
    assert "from-console" not in str(events)  # the script is hashed
