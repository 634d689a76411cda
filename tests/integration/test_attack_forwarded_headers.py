"""Attack: an anonymous client forges X-Forwarded-For to pass as another address (issue 13.9).

The HTTP server believed ``X-Forwarded-For`` from any loopback client, so a client on the server
host (or behind any loopback-forwarding hop) chose its own source address: it registered with an
activation limited to another network (IpAddressRange) and reset the console's sign-in throttle
by naming a new address on each try. Forwarded headers now count only from ``trusted_proxies``
(empty by default); the clients here are real HTTP clients on loopback.
"""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openassist.agent.keys import new_key, public_key_field
from openassist.server.console.sign_in_guard import FREE_FAILURES
from tests.support.cluster import Cluster
from tests.support.console import console_client, sign_in

FOREIGN = "192.0.2.7"  # TEST-NET-1: only ever a header value here, never contacted
SHAPES = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "official_agent_requests.json").read_text()
)


def _register(cluster: Cluster, forwarded_for: str) -> httpx.Response:
    """Register through an activation limited to FOREIGN, from loopback, naming FOREIGN."""
    activation = cluster.call("CreateActivation", InstanceCount="1", IpAddressRange=FOREIGN)
    body = {
        **SHAPES["register"]["body"],
        "activationCode": activation["ActivationCode"],
        "activationId": activation["ActivationId"],
        "machineId": uuid.uuid4().hex,
        "publicKey": public_key_field(new_key()),
    }
    tls = ssl.create_default_context(cafile=str(cluster.ca_file))
    with httpx.Client(verify=tls, timeout=30, trust_env=False) as client:
        return client.post(
            f"https://127.0.0.1:{cluster.agent_port}{SHAPES['register']['path']}",
            content=json.dumps(body),
            headers={"X-Forwarded-For": forwarded_for},
        )


def test_a_forged_forwarded_for_does_not_pass_an_activation_range(cluster: Cluster) -> None:
    answer = _register(cluster, FOREIGN)
    assert answer.status_code == 403, answer.text
    assert "127.0.0.1 is outside the activation's range" in answer.json()["errMsg"]


def _sign_ins_naming_new_addresses(cluster: Cluster, tries: int = 12) -> list[int]:
    """Wrong secrets for a user that does not exist (so only the address is throttled), each
    try naming another address in X-Forwarded-For."""
    with console_client(cluster) as client:
        statuses = []
        for attempt in range(tries):
            client.headers["X-Forwarded-For"] = f"198.51.100.{attempt + 1}"
            statuses.append(sign_in(client, "user", "no-such-user", "wrong").status_code)
    return statuses


def test_a_forged_forwarded_for_does_not_reset_the_sign_in_throttle(cluster: Cluster) -> None:
    statuses = _sign_ins_naming_new_addresses(cluster)
    # The free failures, then the throttle, whatever address each try named.
    assert statuses[:FREE_FAILURES] == [401] * FREE_FAILURES and 429 in statuses, statuses


@pytest.fixture(scope="module")
def behind_a_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    env = {"OPENASSIST_TRUSTED_PROXIES": "127.0.0.0/8"}
    with Cluster.start(tmp_path_factory.mktemp("proxied"), env=env) as running:
        yield running


def test_a_configured_proxy_is_believed(behind_a_proxy: Cluster) -> None:
    """What a forged header did before, now only through a configured proxy (so the two tests
    above would see the bypass if the header were believed)."""
    answer = _register(behind_a_proxy, FOREIGN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["instanceId"].startswith("mi-")
    assert 429 not in _sign_ins_naming_new_addresses(behind_a_proxy)
