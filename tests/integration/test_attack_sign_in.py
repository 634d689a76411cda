"""Attack: guessing a console password (issue 13, low).

The sign-in throttle used to count failures per address only, in a table it cleared after 10,000
addresses, and locked out the right password as well: a guesser spreading attempts over many
addresses was never slowed, and one sharing the user's address (a NAT) locked the user out. The
guesser here signs in for real from many loopback source addresses (127.0.0.0/8 is all local).
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from openassist.server.console.sign_in_guard import FREE_FAILURES
from tests.integration.test_nodes_console import console_user
from tests.support.cluster import Cluster
from tests.support.console import csrf_of, sign_in

PASSWORD = "carol's real password"


@pytest.fixture
def fresh_user(cluster: Cluster) -> str:
    """A console user of the test's own (a name never counted: on PostgreSQL failures are kept
    in the store across restarts)."""
    user = f"carol-{secrets.token_hex(4)}"
    console_user(cluster, user, PASSWORD)
    return user


def _browser(cluster: Cluster, source: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(
        base_url=f"http://{cluster.endpoint}", timeout=60, trust_env=False, transport=transport
    )


def _guess(cluster: Cluster, user: str, source: str, times: int) -> list[int]:
    with _browser(cluster, source) as guesser:
        return [sign_in(guesser, "user", user, f"guess {n}").status_code for n in range(times)]


def test_guesses_spread_over_many_addresses_lock_the_user(
    cluster: Cluster, fresh_user: str
) -> None:
    per_address = FREE_FAILURES - 1  # never enough to lock any one address
    statuses: list[int] = []
    for n in range(2, 42):
        statuses += _guess(cluster, fresh_user, f"127.0.{n // 256}.{n % 256}", per_address)

    assert statuses[:FREE_FAILURES] == [401] * FREE_FAILURES
    assert 429 in statuses
    with _browser(cluster, "127.0.9.9") as stranger:  # the right password, unknown browser
        answer = sign_in(stranger, "user", fresh_user, PASSWORD)
        assert answer.status_code == 429
        # Every attempt past the free ones doubled the lock: 160 reached the cap.
        assert int(answer.headers["retry-after"]) > 60
        assert "try again in" in answer.text


def test_the_users_own_browser_still_signs_in_while_guessers_are_locked(
    cluster: Cluster, fresh_user: str
) -> None:
    with _browser(cluster) as own:
        assert sign_in(own, "user", fresh_user, PASSWORD).status_code == 303
        page = own.get("/console/")
        assert own.post("/console/signout", data={"csrf": csrf_of(page.text)}).status_code == 303
        # Guessers behind the same address as the user (one NAT), and elsewhere.
        assert 429 in _guess(cluster, fresh_user, "127.0.0.1", 12)
        assert 429 in _guess(cluster, fresh_user, "127.0.3.3", 1)

        assert sign_in(own, "user", fresh_user, PASSWORD).status_code == 303
        assert own.get("/console/").status_code == 200
