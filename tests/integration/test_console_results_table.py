"""A task of 1,000 machines on a fleet of 5,000, seeded in the store of a real server: its results
page is a table of 50 rows a page, sorted, filtered by outcome, searched by name and grouped by
identical output, all in SQL; the Stop question counts the machines still running."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.console import csrf_of, signed_in, text_of
from tests.support.fleet_seed import RESULTS, SeededFleet, seed_fleet


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> SeededFleet:
    return seed_fleet(cluster)


@pytest.fixture
def client(cluster: Cluster) -> Iterator[httpx.Client]:
    with signed_in(cluster) as signed:
        yield signed


def _rows(html: str) -> list[str]:
    """The instance ids of the table's rows, in order."""
    return re.findall(r'<tr data-instance-id="([^"]+)"', html)


def _page(client: httpx.Client, fleet: SeededFleet, **query: str) -> str:
    answer = client.get(f"/console/invocations/{fleet.invoke_id}", params=query)
    assert answer.status_code == 200, answer.text[:400]
    return answer.text


def test_the_failures_tab_comes_first_fifty_rows_a_page(
    fleet: SeededFleet, client: httpx.Client
) -> None:
    failed = sum(n for n, status, *_ in RESULTS if status in ("Failed", "Aborted", "Timeout"))
    html = _page(client, fleet)
    shown = text_of(html)
    assert f"Execution failed ({failed})" in shown and "Task Completed (860)" in shown
    assert "Running (12)" in shown and "All (1000)" in shown
    assert f"Machines 1 to 50 of {failed}" in shown
    rows = _rows(html)
    assert len(rows) == 50
    names = [fleet.names[i] for i in rows]
    assert names == sorted(names)  # by name unless asked otherwise
    assert "uname: write error: No space left on device" in shown  # the first line
    assert "ClientNotOnline" not in shown.split("Actions", 1)[0]  # only in the rows
    last = _page(client, fleet, tab="failed", page="3")
    assert f"Machines 101 to {failed} of {failed}" in text_of(last)
    assert len(_rows(last)) == failed - 100
    everything = _page(client, fleet, tab="all", page="20")
    assert "Machines 951 to 1000 of 1000" in text_of(everything) and "Page 20 of 20" in text_of(
        everything
    )


def test_sorting_on_each_column_both_ways(fleet: SeededFleet, client: httpx.Client) -> None:
    down = _rows(_page(client, fleet, tab="failed", dir="desc"))
    assert [fleet.names[i] for i in down][:2] == ["node-0987", "node-0986"]
    by_exit = _rows(_page(client, fleet, tab="all", sort="exit_code"))
    assert {fleet.names[i] for i in by_exit} <= {f"node-{n:04d}" for n in range(988)}
    html = _page(client, fleet, tab="all", sort="exit_code", dir="desc")
    assert 'aria-sort="descending"' in html
    first = _rows(html)[0]
    assert int(fleet.names[first][5:]) in range(860, 930)  # exit code 1, the highest
    for column in ("status", "duration", "output", "name"):
        for direction in ("", "desc"):
            assert len(_rows(_page(client, fleet, tab="all", sort=column, dir=direction))) == 50
    odd = _page(client, fleet, tab="nope", sort="1;drop", dir="sideways", page="-4", view="x")
    assert len(_rows(odd)) == 50  # anything unknown falls back, never a 500


def test_search_by_name_within_a_tab(fleet: SeededFleet, client: httpx.Client) -> None:
    html = _page(client, fleet, tab="failed", q="NODE-09")  # case does not matter
    assert "Machines 1 to 50 of 88" in text_of(html)  # node-0900 .. node-0987
    assert all(fleet.names[i].startswith("node-09") for i in _rows(html))
    by_id = _page(client, fleet, tab="all", q="mi-seed" + "0" * 17 + "1")
    assert "Machines 1 to 10 of 10" in text_of(by_id)  # 10-19
    nothing = _page(client, fleet, tab="all", q="%_")
    assert "No machine in this tab" in text_of(nothing)  # LIKE wildcards are literal


def test_identical_outputs_grouped_with_a_click_to_each(
    fleet: SeededFleet, client: httpx.Client
) -> None:
    html = _page(client, fleet, tab="all", view="groups")
    shown = text_of(html)
    assert "6 different results" in shown
    counts = [int(n) for n in re.findall(r'class="group-count">(\d+) machine', html)]
    assert counts == sorted((n for n, *_ in RESULTS), reverse=True)
    assert "620 machines: Task Completed, exit code 0" in shown
    assert "Linux 6.1.0-28-amd64 x86_64" in shown
    assert "70 machines: Execution failed, exit code 1, ExitCodeNonzero" in shown
    assert "Recommended solution:" in shown
    samples = re.findall(r'data-sample="([^"]+)"', html)
    second = _page(client, fleet, tab="all", same=samples[1])
    assert "Machines 1 to 50 of 240" in text_of(second)
    card = re.search(r'href="(/console/invocations/t-seed[^/"]+/instances/[^"]+)"', html)
    assert card is not None
    opened = client.get(card.group(1))
    assert opened.status_code == 200 and "Linux 6.1.0-28-amd64" in opened.text
    failed = _page(client, fleet, tab="failed", view="groups")
    assert "3 different results" in text_of(failed)


def test_stop_asks_with_how_many_machines_still_run(
    fleet: SeededFleet, client: httpx.Client
) -> None:
    page = _page(client, fleet, tab="running")
    assert "Stop the whole task" in text_of(page)
    asked = client.post(
        f"/console/invocations/{fleet.invoke_id}/stop",
        data={"csrf": csrf_of(page), "back": f"/console/invocations/{fleet.invoke_id}?tab=all"},
    )
    assert asked.status_code == 200
    question = text_of(asked.text)
    assert "still running (or waiting to run) on 12 of its 1000 machines" in question
    assert "Stop it on 12 machines" in question
    assert f'href="/console/invocations/{fleet.invoke_id}?tab=all"' in asked.text
    away = client.post(
        f"/console/invocations/{fleet.invoke_id}/stop",
        data={"csrf": csrf_of(page), "back": "https://elsewhere.example/"},
    )
    assert f'href="/console/invocations/{fleet.invoke_id}?"' in away.text  # never off-site
