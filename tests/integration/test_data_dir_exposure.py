"""Attack: another local user on the server host reads the server's state.

The data directory holds the database (with its -wal and -shm files), the key that seals secrets,
the agent CA's key and the admin credentials. A real unprivileged user (``nobody``) tries to
read every one of them, on a fresh data directory made under the default umask 022 and on one
that an older release left world-readable.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.support.cluster import Cluster, backend_cluster
from tests.support.unprivileged import opened_by_nobody, process_umask, traversable_directory


def _everything_in(data: Path) -> list[Path]:
    found = [data]
    for directory, dirs, files in os.walk(data):
        found += [Path(directory) / name for name in dirs + files]
    return found


def _loose(paths: list[Path]) -> list[str]:
    return [
        f"{p} {stat.S_IMODE(p.lstat().st_mode):04o}" for p in paths if p.lstat().st_mode & 0o077
    ]


@pytest.fixture(params=BACKENDS)
def exposed(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A server whose data directory sits where every user can traverse to it, started with the
    usual umask 022."""
    with (
        traversable_directory() as root,
        process_umask(0o022),
        backend_cluster(request.param, root / "server") as cluster,
    ):
        yield cluster


def test_a_local_user_reads_nothing_of_a_fresh_data_directory(exposed: Cluster) -> None:
    exposed.call("CreateSecretParameter", Name="db-password", Value="hunter2-secret-value")
    exposed.new_agent("exposure")  # the agent's registration and heartbeats write to the store
    data = exposed.root / "data"
    paths = _everything_in(data)
    names = {p.name for p in paths}
    assert {"admin-credentials.json", "parameter-store.key", "ca.key", "server.key"} <= names
    if not exposed.database_url:
        assert {"openassist.db", "openassist.db-wal", "openassist.db-shm"} <= names
    assert opened_by_nobody(paths) == []
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert _loose(paths) == []


def test_a_data_directory_left_readable_by_an_older_release_is_tightened_at_start() -> None:
    with (
        traversable_directory() as root,
        process_umask(0o022),
        Cluster.start(root / "server") as cluster,
    ):
        data = cluster.root / "data"
        cluster.kill_server()
        # What releases before the fix left: 0755 directories and 0644 files.
        for path in _everything_in(data):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        stolen = opened_by_nobody([data / "openassist.db", data / "parameter-store.key"])
        assert len(stolen) == 2  # the attack works on such a directory
        loosened = sorted(str(p) for p in _everything_in(data))
        cluster.restart_server()
        cluster.call("DescribeInvocations")
        paths = _everything_in(data)
        assert opened_by_nobody(paths) == []
        assert _loose(paths) == []
        log = cluster.server_log.read_text()
        for name in loosened:
            assert f"{name} was 0" in log, f"the log does not say {name} was tightened"
