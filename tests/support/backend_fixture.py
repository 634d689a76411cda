"""The module-scoped cluster fixture that many integration modules need with settings of their
own: one running server per module and database backend (PostgreSQL when
OPENASSIST_TEST_POSTGRES_URL is set), as conftest's ``cluster`` but with ``env`` added."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS
from tests.support.cluster import Cluster, backend_cluster


def module_cluster(name: str, env: dict[str, str] | None = None) -> object:
    """A fixture to assign at module level (``cluster = module_cluster("meets", FAST)``): pytest
    names it after that attribute. ``name`` is its directory's prefix under the tmp root."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def fixture(
        tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
    ) -> Iterator[Cluster]:
        with backend_cluster(request.param, tmp_path_factory.mktemp(name), env) as running:
            yield running

    return fixture
