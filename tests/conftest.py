"""Fixtures that start real processes: an OpenAssist server on free loopback ports and real agents.

Set OPENASSIST_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres) to run the
server-backed tests against PostgreSQL as well as SQLite; each run gets its own fresh database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cluster import Cluster, backend_cluster, postgres_admin_url

BACKENDS = ["sqlite"] + (["postgres"] if postgres_admin_url() else [])


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """A running server (one per test module and backend) and a way to add agents to it."""
    with backend_cluster(request.param, tmp_path_factory.mktemp("cluster")) as running:
        yield running
