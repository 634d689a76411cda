"""The official Node SDK (@alicloud/ecs20140526), unmodified, against a real server and agent.

The SDK is installed from the npm registry into a cache folder beside the tests on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cluster import Cluster

HERE = Path(__file__).parent / "node"
CACHE = Path(__file__).parents[2] / ".cache" / "node-sdk"
PACKAGES = ["@alicloud/ecs20140526@7", "@alicloud/openapi-core@1"]


@pytest.fixture(scope="module")
def node_modules() -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "node and npm are needed for the Node SDK test (Debian: nodejs npm)"
    if not (CACHE / "node_modules" / "@alicloud" / "ecs20140526").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(CACHE),
                *PACKAGES,
            ],
            check=True,
            timeout=300,
        )
    return CACHE / "node_modules"


def test_node_sdk_runs_and_describes(cluster: Cluster, node_modules: Path) -> None:
    agent = cluster.new_agent("node-target")
    env = {**os.environ, "NODE_PATH": str(node_modules)}
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        env.pop(name, None)
    result = subprocess.run(
        [
            "node",
            str(HERE / "ecs_client.js"),
            cluster.endpoint,
            cluster.credentials.access_key_id,
            cluster.credentials.access_key_secret,
            agent.instance_id,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == "Success" and answer["overall"] == "Success"
    assert answer["exitCode"] == 0
    assert answer["output"] == "from node\n你好\n"
