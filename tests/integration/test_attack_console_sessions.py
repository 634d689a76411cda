"""Attack: a console session that was ended keeps working after the server restarts (issue 13.7).

Sessions are signed cookies; sign-out used to be remembered in the server's memory only, so a
cookie kept from before the sign-out (a shared machine, a stolen cookie) was a session again
after a restart, and removing a user from ``console-users.json`` left that user's cookies valid.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from openassist.server.console.identity import hash_password
from tests.support.cluster import Cluster
from tests.support.console import console_client, csrf_of, sign_in, signed_in

USERS_FILE = "console-users.json"


def _restart(cluster: Cluster) -> None:
    cluster.kill_server()
    cluster.restart_server()


def _session_works(cluster: Cluster, cookie: str) -> bool:
    with console_client(cluster) as client:
        client.cookies.set("oa_console", cookie, path="/console")
        return client.get("/console/").status_code == 200


@pytest.fixture
def users_file(cluster: Cluster) -> Iterator[dict[str, str]]:
    """The console users file, restored afterwards (the module shares one server)."""
    path = cluster.root / "data" / USERS_FILE
    kept = path.read_bytes()
    yield json.loads(kept)["users"]
    path.write_bytes(kept)


def _write_users(cluster: Cluster, users: dict[str, str]) -> None:
    (cluster.root / "data" / USERS_FILE).write_text(json.dumps({"users": users}))


def test_a_signed_out_session_stays_ended_after_a_restart(cluster: Cluster) -> None:
    with signed_in(cluster) as client:
        page = client.get("/console/")
        kept = client.cookies["oa_console"]
        assert client.post("/console/signout", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert not _session_works(cluster, kept)

    _restart(cluster)

    assert not _session_works(cluster, kept)


def test_removing_a_user_ends_their_sessions(cluster: Cluster, users_file: dict[str, str]) -> None:
    _write_users(cluster, {**users_file, "bob": hash_password("bob's password")})
    _restart(cluster)
    with console_client(cluster) as client:
        assert sign_in(client, "user", "bob", "bob's password").status_code == 303
        bobs = client.cookies["oa_console"]
    assert _session_works(cluster, bobs)

    _write_users(cluster, users_file)  # bob removed
    _restart(cluster)
    assert not _session_works(cluster, bobs)

    _write_users(cluster, {**users_file, "bob": hash_password("a new password")})
    _restart(cluster)  # a new user of the same name is not the old one's sessions
    assert not _session_works(cluster, bobs)
