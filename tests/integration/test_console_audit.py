"""The console's Audit page against a real server: LookupEvents' filters (event name, resource,
user, time range) and paging; shown and served only to users whose policies allow
actiontrail:LookupEvents, and a refused visit is itself an audit event."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.console import console_client, sign_in, signed_in, text_of

AUDIT = "/console/audit"


def _user_with(cluster: Cluster, name: str, actions: list[str]) -> tuple[str, str]:
    """A RAM user allowed ``actions`` on everything; its new access key."""
    cluster.call("CreateUser", UserName=name)
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }
    cluster.call("CreatePolicy", PolicyName=f"{name}-policy", PolicyDocument=json.dumps(document))
    cluster.call(
        "AttachPolicyToUser", PolicyType="Custom", PolicyName=f"{name}-policy", UserName=name
    )
    key = cluster.call("CreateAccessKey", UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["AccessKeySecret"]


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-event-id="([^"]+)"', html)


def _create_command(cluster: Cluster, name: str) -> None:
    content = base64.b64encode(b"echo audited").decode()
    cluster.call("CreateCommand", Name=name, Type="RunShellScript", CommandContent=content)


@pytest.fixture(scope="module")
def reader(cluster: Cluster) -> tuple[str, str]:
    return _user_with(cluster, "audit-reader", ["ecs:Describe*"])


def test_the_audit_page_filters_and_pages_as_lookup_events(cluster: Cluster) -> None:
    for n in range(55):
        _create_command(cluster, f"audited-{n}")
    expected = cluster.call(
        "LookupEvents",
        **{"LookupAttribute.1.Key": "EventName", "LookupAttribute.1.Value": "CreateCommand"},
        MaxResults="50",
    )
    with signed_in(cluster) as client:
        home = client.get("/console/")
        assert f'href="{AUDIT}"' in home.text  # the admin is offered the page
        first = client.get(AUDIT, params={"event": "CreateCommand"})
        assert first.status_code == 200, first.text
        assert _rows(first.text) == [e["eventId"] for e in expected["Events"]]
        assert "55 events" in text_of(first.text)
        older = re.search(r'<a href="(\?[^"]+)">Older events</a>', first.text)
        assert older
        second = client.get(AUDIT + older.group(1).replace("&amp;", "&"))
        assert len(_rows(second.text)) == 5
        assert not set(_rows(second.text)) & set(_rows(first.text))

        by_resource = client.get(AUDIT, params={"resource": "audited-7"})
        assert len(_rows(by_resource.text)) == 1 and "CreateCommand" in by_resource.text
        by_user = client.get(AUDIT, params={"user": "nobody-at-all"})
        assert _rows(by_user.text) == [] and "No event matches." in by_user.text
        admins = client.get(AUDIT, params={"user": "admin", "event": "CreateCommand"})
        assert len(_rows(admins.text)) == 50
        future = client.get(AUDIT, params={"from": "2099-01-01T00:00"})
        assert _rows(future.text) == []
        window = client.get(AUDIT, params={"from": "2000-01-01T00:00", "to": "2099-01-01T00:00"})
        assert len(_rows(window.text)) == 50  # a page of everything, older than 7 days too

        bad = client.get(AUDIT, params={"from": "yesterday"})
        assert bad.status_code == 400
        assert "InvalidParameter.StartTime" in bad.text and "got &#39;yesterday&#39;" in bad.text
        assert "Resource" in text_of(first.text) and "Success" in text_of(first.text)


def test_a_user_without_lookup_events_is_not_offered_the_page_and_is_refused(
    cluster: Cluster, reader: tuple[str, str]
) -> None:
    with console_client(cluster) as client:
        assert sign_in(client, "key", *reader).status_code == 303
        assert f'href="{AUDIT}"' not in client.get("/console/").text
        refused = client.get(AUDIT)
        assert refused.status_code == 403
        assert "actiontrail:LookupEvents" in refused.text
        assert "audit-reader" not in _rows(refused.text)
    events = cluster.call(
        "LookupEvents",
        **{"LookupAttribute.1.Key": "UserName", "LookupAttribute.1.Value": "audit-reader"},
    )["Events"]
    [refusal] = [e for e in events if e["eventName"] == "LookupEvents"]
    assert (refusal["errorCode"], refusal["eventType"]) == ("NoPermission", "ConsoleCall")


def test_a_user_allowed_only_lookup_events_reads_the_audit(cluster: Cluster) -> None:
    key = _user_with(cluster, "auditor", ["actiontrail:LookupEvents"])
    with console_client(cluster) as client:
        assert sign_in(client, "key", *key).status_code == 303
        assert f'href="{AUDIT}"' in client.get("/console/instances").text
        page = client.get(AUDIT, params={"event": "CreateUser"})
        assert page.status_code == 200 and len(_rows(page.text)) >= 2


def test_the_audit_page_needs_a_session(cluster: Cluster) -> None:
    with httpx.Client(base_url=f"http://{cluster.endpoint}", trust_env=False) as client:
        answer = client.get(AUDIT)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/signin?next=")
