"""The Overview page over a seeded fleet of 5,000 machines and a week of tasks: machines online
and offline, tasks per hour by outcome (24 hours, 7 days) as SVG drawn on the server, the most
frequent error codes with their fix; counted among what the signed-in user may see."""

from __future__ import annotations

import re

import pytest

from openassist.catalog import ENTRIES
from tests.integration.test_access_enforcement import make_user
from tests.support.cluster import Cluster
from tests.support.console import console_client, sign_in, signed_in, text_of
from tests.support.fleet_seed import SeededFleet, seed_fleet

WEEK_TASKS = 400  # a cycle of 8: 5 succeed, 3 fail (ExitCodeNonzero, ClientNotOnline, timeout)


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> SeededFleet:
    return seed_fleet(cluster, week_tasks=WEEK_TASKS)


def _chart(html: str, chart_id: str) -> str:
    found = re.search(rf'<svg class="chart" id="{chart_id}".*?</svg>', html, re.S)
    assert found, f"no chart {chart_id}"
    return found.group(0)


def _bar_totals(svg: str) -> list[int]:
    return [int(n) for n in re.findall(r'<g class="bar" data-total="(\d+)"', svg)]


def test_the_overview_counts_machines_tasks_and_errors(
    cluster: Cluster, fleet: SeededFleet
) -> None:
    with signed_in(cluster) as client:
        page = client.get("/console/overview")
    assert page.status_code == 200
    html, shown = page.text, text_of(page.text)
    assert f"{fleet.online} online, {fleet.machines - fleet.online} offline" in shown
    week = _bar_totals(_chart(html, "chart-week"))
    day = _bar_totals(_chart(html, "chart-day"))
    assert len(week) == 168 and len(day) == 24 and day == week[-24:]
    assert sum(week) == WEEK_TASKS + 1  # and the big seeded task, still running
    svg = _chart(html, "chart-week")
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert f"{WEEK_TASKS + 1} tasks: 250 succeeded, 150 failed, 1 running" in svg
    assert "<script" not in html.split("</head>")[1] and "style=" not in svg
    codes = re.findall(r'<tr data-error-code="([^"]+)"><td><code>[^<]+</code></td><td>(\d+)', html)
    assert codes == [("ExitCodeNonzero", "120"), ("ClientNotOnline", "90"),
                     ("ExecutionTimeout", "68")]  # fmt: skip
    assert ENTRIES["ClientNotOnline"].solution in html.replace("&#39;", "'")
    assert 'data-live-state="on"' in html and 'data-live-interval="15000"' in html
    assert 'aria-current="page">Overview' in html


def test_a_user_sees_the_overview_of_what_they_may_see(
    cluster: Cluster, fleet: SeededFleet
) -> None:
    user = make_user(
        cluster,
        "web-watcher",
        {
            "Effect": "Allow",
            "Action": "ecs:Describe*",
            "Resource": "acs:ecs:*:*:instance/*",
            "Condition": {"StringEquals": {"ecs:tag/role": "web"}},
        },
    )
    web = [n for n in range(fleet.machines) if n % 3 == 0]
    online = len([n for n in web if n % 10 != 9])
    with console_client(cluster) as client:
        assert sign_in(client, "key", user.key_id, user.secret).status_code == 303
        page = client.get("/console/overview")
    assert page.status_code == 200
    assert f"{online} online, {len(web) - online} offline" in text_of(page.text)
