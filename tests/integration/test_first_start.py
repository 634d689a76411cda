"""First start: credentials and keys are owner-only, and no secret reaches a log."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.support.cluster import Cluster


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_admin_credentials_are_owner_only_and_never_logged(cluster: Cluster) -> None:
    credentials = cluster.root / "data" / "admin-credentials.json"
    assert _mode(credentials) == 0o600
    secret = json.loads(credentials.read_text())["AccessKeySecret"]
    assert len(secret) >= 30
    cluster.call("DescribeInvocations")  # some traffic, then read every log
    for log in cluster.root.rglob("*.log"):
        assert secret not in log.read_text(errors="replace"), log
    for key in ("server.key", "ca.key"):
        assert _mode(cluster.root / "data" / "tls" / key) == 0o600


def test_agent_identity_files_are_owner_only(cluster: Cluster) -> None:
    agent = cluster.register_agent("files")
    assert agent.instance_id.startswith("mi-")
    for name in ("identity.json", "instance.key", "ca.pem"):
        assert _mode(agent.state_dir / name) == 0o600, name
    assert _mode(agent.state_dir) == 0o700
    assert b"PRIVATE KEY" in (agent.state_dir / "instance.key").read_bytes()
