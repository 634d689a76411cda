"""Two nodes on one PostgreSQL database, each with its own audit sink file: every event is
shipped by exactly one of them (a batch is claimed per row, no leader).

The events are made first (on a third node, without a sink); the test then holds an EXCLUSIVE
lock on the audit table while both sink nodes start, so both find the same backlog and reach
their claim (or, without one, their mark) before either can go on: the race is forced, not
hoped for. Plain reads pass that lock; row locks and writes wait for it."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.cluster import (
    Cluster,
    postgres_admin_url,
    temporary_postgres_database,
    wait_until,
)

pytestmark = pytest.mark.skipif(
    not postgres_admin_url(), reason="several nodes share a PostgreSQL database"
)

EVENTS = 1200  # more than two batches of the sink (500)
WAITING_SINKS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
      AND query ILIKE '%audit_events%' AND query ILIKE '%shipped%'
"""


# The events are made as fast as the API answers: more than its default rate per key.
UNLIMITED = {"OPENASSIST_API_RATE_PER_KEY": "0"}


@pytest.fixture()
def maker(tmp_path: Path) -> Iterator[Cluster]:
    with (
        temporary_postgres_database() as url,
        Cluster.start(tmp_path / "maker", url, UNLIMITED) as node,
    ):
        yield node


def _event_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["eventId"] for line in path.read_text().splitlines()]


def _stored_ids(database_url: str) -> set[str]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT event_id FROM audit_events").fetchall()
    return {str(row[0]) for row in rows}


def test_two_nodes_ship_every_event_once_between_them(maker: Cluster, tmp_path: Path) -> None:
    import psycopg

    content = base64.b64encode(b"echo hi").decode()

    def create(n: int) -> None:
        maker.call("CreateCommand", Name=f"c{n}", Type="RunShellScript", CommandContent=content)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(EVENTS)))
    stored = _stored_ids(maker.database_url)
    assert len(stored) >= EVENTS

    files = [tmp_path / "siem-b.jsonl", tmp_path / "siem-c.jsonl"]
    with psycopg.connect(maker.database_url) as lock:
        lock.execute("LOCK TABLE audit_events IN EXCLUSIVE MODE")
        with (
            maker.another_node(tmp_path / "b", {"OPENASSIST_AUDIT_SINK_FILE": str(files[0])}),
            maker.another_node(tmp_path / "c", {"OPENASSIST_AUDIT_SINK_FILE": str(files[1])}),
        ):
            with psycopg.connect(maker.database_url) as watcher:

                def both_waiting() -> bool:
                    row = watcher.execute(WAITING_SINKS).fetchone()
                    return row is not None and int(row[0]) >= 2

                wait_until(both_waiting, 60, 0.1, what="both sinks to wait on the audit table")
            lock.commit()  # both go on at once
            wait_until(
                lambda: set(_event_ids(files[0])) | set(_event_ids(files[1])) >= stored,
                120,
                0.2,
                what="the two files to hold every stored event",
            )
    shipped = [_event_ids(path) for path in files]
    copies = Counter(shipped[0] + shipped[1])
    twice = [event_id for event_id, count in copies.items() if count > 1]
    print(f"events shipped by node B, node C: {len(shipped[0])}, {len(shipped[1])}")
    assert not twice, f"{len(twice)} events shipped more than once, e.g. {twice[:3]}"
    assert set(copies) == _stored_ids(maker.database_url)
