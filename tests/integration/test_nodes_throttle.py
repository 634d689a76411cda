"""An access key's API rate holds across nodes: calls spread over two nodes on one PostgreSQL
database spend from one bucket (kept in the store), not one bucket per node."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Cluster, postgres_admin_url, temporary_postgres_database

pytestmark = pytest.mark.skipif(
    not postgres_admin_url(), reason="several nodes share a PostgreSQL database"
)

RATE, BURST = 1, 2
LIMITED = {"OPENASSIST_API_RATE_PER_KEY": str(RATE), "OPENASSIST_API_BURST_PER_KEY": str(BURST)}


@pytest.fixture
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Cluster]]:
    root = tmp_path_factory.mktemp("throttle-a")
    with (
        temporary_postgres_database() as url,
        Cluster.start(root, url, env=LIMITED) as node_a,
        node_a.another_node(tmp_path_factory.mktemp("throttle-b")) as node_b,
    ):
        yield node_a, node_b


def test_a_key_gets_its_rate_across_both_nodes_not_per_node(
    nodes: tuple[Cluster, Cluster],
) -> None:
    outcomes: list[str] = []
    started = time.monotonic()
    for n in range(12):
        try:
            nodes[n % 2].call("DescribeInvocations", MaxResults="1")
            outcomes.append("taken")
        except ApiCallError as error:
            assert error.code == "Throttling", error
            outcomes.append("throttled")
    elapsed = time.monotonic() - started
    # One bucket: its burst plus what refilled while the calls went on (at most the time they
    # took). A bucket per node would take twice the burst and refill twice as fast.
    assert outcomes.count("taken") <= BURST + math.floor(elapsed * RATE), (outcomes, elapsed)
    assert outcomes[:BURST] == ["taken"] * BURST
    print(f"{outcomes.count('taken')} of 12 taken in {elapsed:.2f} s")
