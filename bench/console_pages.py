"""The console's pages at fleet scale: a real server whose store holds 5,000 machines, a task
with 1,000 results and a week of tasks (seeded as tests/support/fleet_seed does), and a run
from the run form on 833 of them (9 tasks), each page fetched ``--runs`` times by a signed-in
client; p50/p99 of the whole answer (server time plus loopback), and the ratio to the Commands
page (an empty library: a page that reads nearly nothing) in the same run. On an older tree
the run's page is wherever its run form sends the browser.
Usage: .venv/bin/python -m bench.console_pages [--runs 30] [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.reconnect_swarm import percentile
from tests.support.cluster import Cluster, temporary_postgres_database
from tests.support.console import signed_in
from tests.support.fleet_seed import seed_fleet


@contextlib.contextmanager
def _server(root: Path, postgres: bool) -> Iterator[Cluster]:
    if postgres:
        with temporary_postgres_database() as url, Cluster.start(root, url) as running:
            yield running
    else:
        with Cluster.start(root) as running:
            yield running


def _split_run(client: httpx.Client) -> str:
    """Run ``uptime`` from the run form on role=web, zone=a (833 machines): the run's page."""
    form = client.get("/console/run").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf, "the run form has no CSRF token"
    started = client.post(
        "/console/run",
        data={"csrf": csrf[1], "content": "uptime", "target": "tag", "tag": "role=web, zone=a"},
    )
    assert started.status_code == 303, started.text[:400]
    return str(started.headers["location"])


def _with(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, _server(Path(tmp), args.postgres) as cluster:
        fleet = seed_fleet(cluster)
        task = f"/console/invocations/{fleet.invoke_id}"
        pages = {
            "commands, none saved (baseline)": "/console/commands",
            "task list": "/console/invocations",
            "task: failures tab": task,
            "task: all, page 20, by exit code": f"{task}?tab=all&page=20&sort=exit_code&dir=desc",
            "task: grouped by output": f"{task}?tab=all&view=groups",
            "machine card": f"{task}/instances/mi-seed{870:019d}",
            "run form": "/console/run",
            "target count: role=web": "/console/targets?for=run&target=tag&tag=role%3Dweb",
            "target count: online": "/console/targets?for=run&target=online",
            "instances": "/console/instances",
            "overview": "/console/overview",
        }
        with signed_in(cluster) as client:
            run = _split_run(client)
        pages.update(
            {
                "split run (833 machines, 9 tasks)": run,
                "split run: all, page 10, by duration": _with(run, "tab=all&page=10&sort=duration"),
                "split run: grouped by output": _with(run, "tab=all&view=groups"),
            }
        )
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(
            f"console pages, {fleet.machines} machines, 1000 results, {backend}, {args.runs} runs"
        )
        baseline = 0.0
        with signed_in(cluster) as client:
            for name, url in pages.items():
                status = client.get(url).status_code  # warm, and it answers
                if status != 200:  # an older tree without this page
                    print(f"  {name:34} answers {status}")
                    continue
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                p50 = statistics.median(times)
                baseline = baseline or p50
                print(
                    f"  {name:34} p50 {p50:7.1f} ms  p99 {percentile(times, 0.99):7.1f} ms"
                    f"  x{p50 / baseline:5.1f}"
                )
            _time_the_stop(client, run)


def _time_the_stop(client: httpx.Client, run: str) -> None:
    """One sample: the whole run's Stop, confirmed (every unfinished task)."""
    page = client.get(run).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    if "/stop" not in page or csrf is None or not run.startswith("/console/runs/"):
        print("  (no Stop for the whole run on this tree)")
        return
    started = time.perf_counter()
    answer = client.post(f"{run}/stop", data={"csrf": csrf[1], "confirm": "yes"})
    took = (time.perf_counter() - started) * 1000
    print(f"  stop the whole run (one sample)   {took:7.1f} ms  answers {answer.status_code}")


if __name__ == "__main__":
    main()
