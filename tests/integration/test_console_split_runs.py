"""A console run on more than 100 machines is kept in the store as one run of several tasks: its
page needs only the run's id, shows one merged results table across its tasks (sorted, filtered,
searched, grouped and paged in SQL, as one task's table), and has one Stop for the whole run that
asks first, with how many machines still run, and is checked against the user's policies on
every machine of the run, as one task's Stop is. Seeded machines have no agent: a row stays
Pending until stopped, and a machine seeded offline fails at once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.test_access_enforcement import make_user
from tests.support.cluster import Cluster
from tests.support.console import console_client, csrf_of, sign_in, signed_in, text_of
from tests.support.fleet_seed import SeededFleet, seed_fleet

MACHINES = 1500
ACTIVE = {"Pending", "Running", "Stopping", "Scheduled"}
STOP_ON_WEB = {
    "Effect": "Allow",
    "Action": "ecs:StopInvocation",
    "Resource": "acs:ecs:*:*:instance/*",
    "Condition": {"StringEquals": {"ecs:tag/role": "web"}},
}
SEE_ALL = {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}


def _offline(n: int) -> bool:
    return n % 10 == 9  # the seed's rule


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> SeededFleet:
    return seed_fleet(cluster, machines=MACHINES, week_tasks=0)


@pytest.fixture
def client(cluster: Cluster, fleet: SeededFleet) -> Iterator[httpx.Client]:
    with signed_in(cluster) as signed:
        yield signed


def _start(client: httpx.Client, tag: str) -> str:
    """A run from the form on the machines tagged ``tag``: its page's address."""
    csrf = csrf_of(client.get("/console/run").text)
    started = client.post(
        "/console/run", data={"csrf": csrf, "content": "uptime", "target": "tag", "tag": tag}
    )
    assert started.status_code == 303, text_of(started.text)
    location = started.headers["location"]
    assert re.fullmatch(r"/console/runs/run-[0-9a-f]+", location), location
    return location


def _get(client: httpx.Client, url: str, **query: str) -> str:
    answer = client.get(url, params=query) if query else client.get(url)
    assert answer.status_code == 200, answer.text[:400]
    return answer.text


def _rows(html: str) -> list[tuple[str, str]]:
    """(task, machine) of the table's rows, in order."""
    found = re.findall(r'<tr data-instance-id="([^"]+)">\s*<td><a href="/console/invocations/'
                       r'(t-[0-9a-z]+)/instances/', html)  # fmt: skip
    return [(task, machine) for machine, task in found]


def _tasks_of(html: str) -> list[str]:
    return re.findall(r'<tr data-invoke-id="([^"]+)"', html)


def _statuses(cluster: Cluster, invoke_ids: list[str]) -> set[str]:
    return {
        cluster.call("DescribeInvocations", InvokeId=i)["Invocations"]["Invocation"][0][
            "InvocationStatus"
        ]
        for i in invoke_ids
    }


def test_a_split_run_is_kept_and_shown_in_one_table(
    cluster: Cluster, fleet: SeededFleet, client: httpx.Client
) -> None:
    web = [n for n in range(MACHINES) if n % 3 == 0]  # role=web: 500 machines, 5 tasks
    offline = [n for n in web if _offline(n)]
    run = _start(client, "role=web")
    html = _get(client, run)  # nothing but the run's id in the address
    shown = text_of(html)
    tasks = _tasks_of(html)
    assert len(tasks) == 5 and f"Run on {len(web)} machines" in shown
    # Failures first, as on a task's page: the offline machines of every task, in one table.
    assert f"Execution failed ({len(offline)})" in shown and f"All ({len(web)})" in shown
    rows = _rows(html)
    assert len(rows) == len(offline) and f"Machines 1 to {len(offline)} of {len(offline)}" in shown
    assert len({task for task, _ in rows}) == 5  # rows of every task, merged
    names = [fleet.names[m] for _, m in rows]
    assert names == sorted(names) == [f"node-{n:04d}" for n in offline]
    # Every machine, 50 a page, sorted across tasks; searched; grouped.
    every = _get(client, run, tab="all", page="10")
    assert f"Machines 451 to 500 of {len(web)}" in text_of(every)
    down = _rows(_get(client, run, tab="all", dir="desc"))
    assert [fleet.names[m] for _, m in down[:2]] == ["node-1497", "node-1494"]
    found = _get(client, run, tab="all", q="node-14")
    assert "Machines 1 to 33 of 33" in text_of(found)  # node-1401 .. node-1497, one in three
    grouped = text_of(_get(client, run, tab="all", view="groups"))
    assert "2 different results" in grouped
    assert f"{len(web) - len(offline)} machines: Pending delivery" in grouped
    assert f"{len(offline)} machines: Not delivered" in grouped
    same = _get(client, run, tab="all", same=f"mi-seed{offline[0]:019d}")
    assert f"of {len(offline)}" in text_of(same)
    # A row's card is its own task's, one click away.
    task, machine = rows[0]
    assert client.get(f"/console/invocations/{task}/instances/{machine}").status_code == 200
    # Each task leads back to its run; the old address (ids in the URL) is sent to it.
    task_page = _get(client, f"/console/invocations/{tasks[2]}")
    assert f'id="part-of-run">run {run.rsplit("/", 1)[1]}</a>' in task_page
    assert f'href="{run}" class="muted part-of-run"' in _get(client, "/console/invocations")
    earlier = client.get("/console/runs", params=[("id", t) for t in tasks])
    assert earlier.status_code == 303 and earlier.headers["location"] == run
    live = _get(client, run, fragment="1", tab="all")
    assert "Machines 1 to 50 of 500" in text_of(live)
    assert client.get("/console/runs/run-0000").status_code == 404
    odd = _get(client, run, tab="nope", sort="1;drop", dir="x", page="-3", view="y")
    assert len(_rows(odd)) == len(offline)  # anything unknown falls back


def test_stop_asks_with_the_machines_still_running_then_stops_every_task(
    cluster: Cluster, fleet: SeededFleet, client: httpx.Client
) -> None:
    chosen = [n for n in range(MACHINES) if n % 6 == 3]  # role=web, zone=a: 250, 3 tasks
    running = len([n for n in chosen if not _offline(n)])
    run = _start(client, "role=web, zone=a")
    html = _get(client, run)
    tasks = _tasks_of(html)
    assert len(tasks) == 3 and "Stop the whole run" in html
    csrf = csrf_of(html)
    asked = client.post(f"{run}/stop", data={"csrf": csrf, "back": f"{run}?tab=all"})
    assert asked.status_code == 200
    question = text_of(asked.text)
    run_id = run.rsplit("/", 1)[1]
    assert f"Stop run {run_id}?" in question
    assert f"on {running} of its {len(chosen)} machines, in 3 tasks" in question
    assert f"Stop it on {running} machines" in question and "Cancel, keep it running" in question
    assert _statuses(cluster, tasks) <= ACTIVE | {"PartialFailed", "Failed"}  # nothing yet
    assert "Running: 0" not in text_of(_get(client, run))
    done = client.post(
        f"{run}/stop", data={"csrf": csrf, "back": f"{run}?tab=all", "confirm": "yes"}
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"{run}?tab=all&notice=")
    after = text_of(_get(client, done.headers["location"]))
    assert f"Stop requested for {running} machines of this run." in after, after[:700]
    assert f"{len(chosen)} of {len(chosen)} done" in after
    assert not _statuses(cluster, tasks) & ACTIVE
    assert "Stop the whole run" not in _get(client, run)
    assert _stops_of(cluster, run_id) == [("admin", "")]  # the audit trail names the run


def _stops_of(cluster: Cluster, run_id: str) -> list[tuple[str, str]]:
    """Who tried to stop the run, and the error code, as LookupEvents finds them by its id."""
    events = cluster.call(
        "LookupEvents",
        **{"LookupAttribute.1.Key": "ResourceName", "LookupAttribute.1.Value": run_id},
    )["Events"]
    return sorted(
        (e["userIdentity"]["userName"], e["errorCode"])
        for e in events
        if e["eventName"] == "StopInvocation"
    )


def test_the_whole_run_stop_is_refused_whole_by_policy(
    cluster: Cluster, fleet: SeededFleet, client: httpx.Client
) -> None:
    """A user who may stop tasks only on role=web machines cannot stop a run that also runs on
    db and cache machines: refused as the API refuses it, and no task of it is stopped. The same
    user stops a run on web machines only; a read-only user is offered no Stop at all."""
    mixed = _start(client, "zone=a")  # 750 machines of every role, 8 tasks
    web_only = _start(client, "role=web, zone=b")  # 250 machines, 3 tasks
    stopper = make_user(cluster, "run-stopper", STOP_ON_WEB, SEE_ALL)
    viewer = make_user(cluster, "run-viewer", system="AliyunECSAssistantReadOnlyAccess")
    web_viewer = make_user(
        cluster,
        "web-viewer",
        {**SEE_ALL, "Condition": {"StringEquals": {"ecs:tag/role": "web"}},
         "Resource": "acs:ecs:*:*:instance/*"},
    )  # fmt: skip
    mixed_tasks = _tasks_of(_get(client, mixed))
    with console_client(cluster) as other:
        assert sign_in(other, "key", stopper.key_id, stopper.secret).status_code == 303
        csrf = csrf_of(_get(other, mixed))
        refused = other.post(f"{mixed}/stop", data={"csrf": csrf, "confirm": "yes"})
        assert refused.status_code == 403, refused.text
        assert re.search(r"ecs:StopInvocation on \S+:instance/mi-seed\d+", refused.text)
        assert _statuses(cluster, mixed_tasks) <= ACTIVE | {"PartialFailed", "Failed"}
        assert _stops_of(cluster, mixed.rsplit("/", 1)[1]) == [("run-stopper", "Forbidden.RAM")]
        mine = other.post(f"{web_only}/stop", data={"csrf": csrf, "confirm": "yes"})
        assert mine.status_code == 303, text_of(mine.text)
        assert not _statuses(cluster, _tasks_of(_get(client, web_only))) & ACTIVE
    with console_client(cluster) as reader:
        assert sign_in(reader, "key", viewer.key_id, viewer.secret).status_code == 303
        page = _get(reader, mixed)
        assert "Stop the whole run" not in page and "All (750)" in text_of(page)
        forged = reader.post(f"{mixed}/stop", data={"csrf": csrf_of(page), "confirm": "yes"})
        assert forged.status_code == 403 and "not authorized" in forged.text, forged.text
        assert _statuses(cluster, mixed_tasks) <= ACTIVE | {"PartialFailed", "Failed"}
    with console_client(cluster) as narrow:  # sees the run's web machines only
        assert sign_in(narrow, "key", web_viewer.key_id, web_viewer.secret).status_code == 303
        shown = text_of(_get(narrow, mixed, tab="all"))
        assert "Run on 250 machines" in shown and "All (250)" in shown
        assert "node-0001" not in shown and "node-0003" in shown
