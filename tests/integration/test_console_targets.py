"""The run form at 5,000 machines: targets by name (part or glob), by tag, every machine online,
or by id, counted on the server before anything runs, among the machines the signed-in user's
policies let them run on; a forged choice is refused as the API refuses it; a run on more than
100 machines is split into tasks of 100, checked on every target before the first exists."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.test_access_enforcement import make_user
from tests.support.cluster import Cluster
from tests.support.console import console_client, csrf_of, sign_in, signed_in, text_of
from tests.support.fleet_seed import SeededFleet, seed_fleet

MACHINES = range(5000)
ONLINE = [n for n in MACHINES if n % 10 != 9]  # the seed's rule: one in ten offline
WEB = [n for n in MACHINES if n % 3 == 0]  # role=web


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> SeededFleet:
    return seed_fleet(cluster, week_tasks=0)


@pytest.fixture
def client(cluster: Cluster, fleet: SeededFleet) -> Iterator[httpx.Client]:
    with signed_in(cluster) as signed:
        yield signed


def _count(client: httpx.Client, **choice: str) -> str:
    answer = client.get("/console/targets", params={"for": "run", **choice})
    assert answer.status_code == 200, answer.text
    return text_of(answer.text)


def _tasks(cluster: Cluster) -> int:
    return int(cluster.call("DescribeInvocations", MaxResults="50")["TotalCount"])


def test_each_way_of_choosing_is_counted_before_running(client: httpx.Client) -> None:
    assert _count(client, target="name", pattern="node-00*").startswith("100 machines match")
    assert _count(client, target="name", pattern="NODE-49").startswith("100 machines match")
    assert _count(client, target="name", pattern="node-0007").startswith(
        "1 machine matches: node-0007."
    )
    assert _count(client, target="tag", tag="role=web").startswith(f"{len(WEB)} machines")
    both = [n for n in WEB if n % 2 == 1]  # zone=a
    assert _count(client, target="tag", tag="role=web, zone=a").startswith(f"{len(both)} mach")
    online = _count(client, target="online")
    assert online.startswith(f"{len(ONLINE)} machines match (online now)")
    assert f"and {len(ONLINE) - 8} more" in online
    assert _count(client, target="name", pattern="no-such-*").startswith("0 machines match")
    assert "Choose the machines" in _count(client, target="tag", tag="")


def test_the_count_button_shows_the_count_and_runs_nothing(
    cluster: Cluster, client: httpx.Client
) -> None:
    form = client.get("/console/run")
    assert 'data-count-url="/console/targets?for=run"' in form.text
    before = _tasks(cluster)
    counted = client.post(
        "/console/run",
        data={"csrf": csrf_of(form.text), "target": "tag", "tag": "role=db", "preview": "1",
              "content": "uptime"},
    )  # fmt: skip
    assert counted.status_code == 200
    assert f"{len([n for n in MACHINES if n % 3 == 1])} machines match" in text_of(counted.text)
    assert 'value="role=db"' in counted.text and "uptime" in counted.text  # kept as typed
    assert _tasks(cluster) == before


def _machines_of(cluster: Cluster, invoke_id: str) -> list[str]:
    found: list[str] = []
    token = ""
    while True:
        more = {"NextToken": token} if token else {}
        page = cluster.call(
            "DescribeInvocationResults", InvokeId=invoke_id, MaxResults="50", **more
        )["Invocation"]
        found += [r["InstanceId"] for r in page["InvocationResults"]["InvocationResult"]]
        token = page.get("NextToken", "")
        if not token:
            return found


def test_running_by_name(cluster: Cluster, client: httpx.Client) -> None:
    csrf = csrf_of(client.get("/console/run").text)
    run = {"csrf": csrf, "content": "uptime", "Timeout": "60"}
    started = client.post("/console/run", data={**run, "target": "name", "pattern": "node-001?"})
    assert started.status_code == 303, text_of(started.text)
    invoke_id = started.headers["location"].rsplit("/", 1)[-1]
    rows = cluster.call("DescribeInvocationResults", InvokeId=invoke_id, MaxResults="50")
    assert rows["Invocation"]["TotalCount"] == 10  # node-0010 .. node-0019


def test_a_run_beyond_100_machines_is_split_and_shown_as_one(
    cluster: Cluster, client: httpx.Client
) -> None:
    chosen = [n for n in WEB if n % 2 == 1]  # role=web, zone=a: 833 machines
    csrf = csrf_of(client.get("/console/run").text)
    started = client.post(
        "/console/run",
        data={"csrf": csrf, "content": "uptime", "target": "tag", "tag": "role=web, zone=a"},
    )
    assert started.status_code == 303, text_of(started.text)
    location = started.headers["location"]
    assert location.startswith("/console/runs/run-")  # kept in the store
    invoke_ids = re.findall(r'<tr data-invoke-id="(t-[0-9a-z]+)"', client.get(location).text)
    assert len(invoke_ids) == 9  # 8 of 100 and one of 33
    machines = [m for i in invoke_ids for m in _machines_of(cluster, i)]
    assert sorted(machines) == sorted(f"mi-seed{n:019d}" for n in chosen)  # each once
    page = client.get(location)
    assert page.status_code == 200
    shown = text_of(page.text)
    assert f"Run on {len(chosen)} machines" in shown and "9 tasks of this run" in shown
    offline = len([n for n in chosen if n % 10 == 9])  # their rows fail at once; no agent runs
    running = len(chosen) - offline
    counted = f"{offline} of {len(chosen)} done; Execution failed: {offline}; Running: {running}."
    assert counted in shown
    assert all(f'data-invoke-id="{i}"' in page.text for i in invoke_ids)
    live = client.get(location, params={"fragment": "1", "tab": "all"})
    assert live.status_code == 200 and f"{offline} of {len(chosen)} done" in text_of(live.text)
    assert client.get("/console/runs?id=t-nosuchtask").status_code == 404


def test_a_user_counts_and_runs_only_where_their_policies_allow(
    cluster: Cluster, fleet: SeededFleet
) -> None:
    user = make_user(
        cluster,
        "web-runner",
        {
            "Effect": "Allow",
            "Action": "ecs:RunCommand",
            "Resource": "acs:ecs:*:*:instance/*",
            "Condition": {"StringEquals": {"ecs:tag/role": "web"}},
        },
        {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"},
    )
    web_online = [n for n in WEB if n % 10 != 9]
    with console_client(cluster) as client:
        assert sign_in(client, "key", user.key_id, user.secret).status_code == 303
        assert _count(client, target="online").startswith(f"{len(web_online)} machines match")
        assert _count(client, target="tag", tag="role=db").startswith("0 machines match")
        before = _tasks(cluster)
        csrf = csrf_of(client.get("/console/run").text)
        db_machine = f"mi-seed{1:019d}"  # node-0001: role=db
        forged = client.post(
            "/console/run",
            data={"csrf": csrf, "content": "id", "target": "ids", "instance_id": db_machine},
        )
        assert forged.status_code == 403 and "Forbidden.RAM" in forged.text, forged.text
        assert re.search(rf"instance/{db_machine}", forged.text)
        by_tag = client.post(
            "/console/run", data={"csrf": csrf, "content": "id", "target": "tag", "tag": "role=db"}
        )
        assert by_tag.status_code == 400 and "InvalidResourceTag.InstanceNotFound" in by_tag.text
        assert _tasks(cluster) == before
        mine = client.post(
            "/console/run",
            data={"csrf": csrf, "content": "id", "target": "name", "pattern": "node-000*"},
        )
        assert mine.status_code == 303, text_of(mine.text)  # node-0000, -0003, -0006 (web)
        invoke_id = mine.headers["location"].rsplit("/", 1)[-1]
    rows = cluster.call("DescribeInvocationResults", InvokeId=invoke_id, MaxResults="50")
    assert rows["Invocation"]["TotalCount"] == 4  # 0, 3, 6, 9: all role=web


def test_a_split_run_is_refused_whole_when_one_target_is_refused(
    cluster: Cluster, fleet: SeededFleet
) -> None:
    """150 machines typed by id, the last one a role=db machine the user may not run on: the
    run is refused before the first task of 100 is created (the API checks each target)."""
    user = make_user(
        cluster,
        "web-splitter",
        {
            "Effect": "Allow",
            "Action": "ecs:RunCommand",
            "Resource": "acs:ecs:*:*:instance/*",
            "Condition": {"StringEquals": {"ecs:tag/role": "web"}},
        },
        {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"},
    )
    typed = [f"mi-seed{n:019d}" for n in WEB[:150]] + [f"mi-seed{1:019d}"]  # node-0001: db
    with console_client(cluster) as client:
        assert sign_in(client, "key", user.key_id, user.secret).status_code == 303
        csrf = csrf_of(client.get("/console/run").text)
        before = _tasks(cluster)
        refused = client.post(
            "/console/run",
            data={"csrf": csrf, "content": "id", "target": "ids", "instance_ids": " ".join(typed)},
        )
        assert refused.status_code == 403 and "Forbidden.RAM" in refused.text, refused.text
        assert f"instance/mi-seed{1:019d}" in refused.text
        assert _tasks(cluster) == before  # not even the first 100
        allowed = client.post(
            "/console/run",
            data={
                "csrf": csrf,
                "content": "id",
                "target": "ids",
                "instance_ids": " ".join(typed[:150]),
            },
        )
        assert allowed.status_code == 303, text_of(allowed.text)
        assert allowed.headers["location"].startswith("/console/runs/run-")
        assert _tasks(cluster) == before + 2


def test_the_instances_page_pages_and_filters_five_thousand(
    cluster: Cluster, client: httpx.Client
) -> None:
    first = client.get("/console/instances")
    assert first.status_code == 200
    shown = text_of(first.text)
    total = int(re.search(r"(\d+) instances, 100 shown", shown).group(1))  # type: ignore[union-attr]
    assert total >= 5000  # and any agent another test registered
    ids = re.findall(r'<tr data-instance-id="([^"]+)"', first.text)
    assert len(ids) == 100
    after = re.search(r'href="(\?after=[^"]+)"', first.text)
    assert after is not None
    second = client.get("/console/instances" + after.group(1).replace("&amp;", "&"))
    more = re.findall(r'<tr data-instance-id="([^"]+)"', second.text)
    assert len(more) == 100 and not set(more) & set(ids)
    offline = text_of(client.get("/console/instances", params={"agent": "offline"}).text)
    assert re.search(r"\b(50\d) instances", offline)  # 500 seeded, plus gone test agents
    named = client.get("/console/instances", params={"q": "node-12*", "tag": "role=web"}).text
    assert "34 instances" in text_of(named)  # node-1200 .. node-1299, one in three
