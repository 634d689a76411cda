"""The console behind a load balancer: two server nodes on one PostgreSQL database. The session
secret is the store's, so a session made on one node is one on the other with nothing copied
(an earlier version kept it in a file per node, to be copied by hand; such a file, and the old
``console-users.json``, are imported once). A sign-in throttled on one node is throttled on the
other, and a session ended on one node (sign-out, new password, user gone, its access key
disabled) is refused by the other at once.

Access keys and principals are cached for an hour here (``access_cache_s``): a refusal on node
B comes from node A's message on the bus, not from the cache running out.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator

import httpx
import pytest
from alibabacloud_ram20150501 import models as ram

from openassist.server.console.identity import hash_password
from openassist.server.console.session import SessionSigner
from openassist.server.console.sign_in_guard import FREE_FAILURES
from openassist.server.private_files import write_private
from openassist.server.service.passwords import session_mark
from tests.e2e.test_official_sdks import without_proxies
from tests.e2e.test_ram_sdk import READ_ONLY, ram_client
from tests.support.cluster import Cluster, postgres_admin_url, temporary_postgres_database
from tests.support.console import console_password, csrf_of, sign_in

__all__ = ["without_proxies"]  # the autouse fixture applies here too

pytestmark = pytest.mark.skipif(
    not postgres_admin_url(), reason="several nodes share a PostgreSQL database"
)

CACHED_FOR_AN_HOUR = {"OPENASSIST_ACCESS_CACHE_S": "3600"}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Cluster]]:
    root_a, root_b = tmp_path_factory.mktemp("console-a"), tmp_path_factory.mktemp("console-b")
    with (
        temporary_postgres_database() as url,
        Cluster.start(root_a, url, env=CACHED_FOR_AN_HOUR) as node_a,
        node_a.another_node(root_b) as node_b,  # nothing copied but the parameter key
    ):
        yield node_a, node_b


def console_user(node: Cluster, name: str, password: str) -> None:
    """A RAM user with a console password and the read-only system policy."""
    admin = ram_client(node)
    admin.create_user(ram.CreateUserRequest(user_name=name))
    admin.create_login_profile(ram.CreateLoginProfileRequest(user_name=name, password=password))
    admin.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="System", policy_name=READ_ONLY, user_name=name)
    )


def browser(node: Cluster, source: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(
        base_url=f"http://{node.endpoint}", timeout=60, trust_env=False, transport=transport
    )


@contextlib.contextmanager
def signed_in_on(node: Cluster, name: str, password: str) -> Iterator[httpx.Client]:
    with browser(node) as client:
        assert sign_in(client, "user", name, password).status_code == 303
        yield client


def shown_by(client: httpx.Client, node: Cluster) -> int:
    """The status of the console's front page on ``node`` with ``client``'s cookies (200:
    signed in; 303: sent to sign in)."""
    return client.get(f"http://{node.endpoint}/console/").status_code


def test_guesses_spread_over_both_nodes_lock_the_user_on_both(
    nodes: tuple[Cluster, Cluster],
) -> None:
    node_a, node_b = nodes
    console_user(node_a, "olga", "olga's password")
    statuses = []
    # Each guess from an address of its own: only the user's count can lock. Node B alone sees
    # FREE_FAILURES of them, never enough to lock; the two nodes together see twelve.
    for n, node in enumerate([node_a] * 7 + [node_b] * FREE_FAILURES):
        with browser(node, f"127.0.1.{n + 1}") as guesser:
            statuses.append(sign_in(guesser, "user", "olga", f"guess {n}").status_code)
    assert statuses[:FREE_FAILURES] == [401] * FREE_FAILURES
    with browser(node_b, "127.0.2.1") as stranger:  # the right password
        answer = sign_in(stranger, "user", "olga", "olga's password")
    assert answer.status_code == 429, statuses
    # Twelve failures: the lock doubled six times past the free ones.
    assert int(answer.headers["retry-after"]) > 30


def test_a_sign_out_on_node_a_ends_the_session_on_node_b(nodes: tuple[Cluster, Cluster]) -> None:
    node_a, node_b = nodes
    console_user(node_a, "sam", "sam's password")
    with signed_in_on(node_a, "sam", "sam's password") as client:
        assert shown_by(client, node_b) == 200
        page = client.get("/console/")
        kept = dict(client.cookies)
        assert client.post("/console/signout", data={"csrf": csrf_of(page.text)}).status_code == 303
        client.cookies.update(kept)  # a copy of the cookie kept from before the sign-out
        assert shown_by(client, node_b) == 303


def test_a_new_password_or_the_user_gone_ends_the_session_on_node_b(
    nodes: tuple[Cluster, Cluster],
) -> None:
    node_a, node_b = nodes
    admin = ram_client(node_a)
    console_user(node_a, "pia", "pia's password")
    with signed_in_on(node_a, "pia", "pia's password") as client:
        assert shown_by(client, node_b) == 200
        admin.update_login_profile(
            ram.UpdateLoginProfileRequest(user_name="pia", password="pia's new password")
        )
        assert shown_by(client, node_b) == 303
    with signed_in_on(node_a, "pia", "pia's new password") as client:
        assert shown_by(client, node_b) == 200
        admin.delete_login_profile(ram.DeleteLoginProfileRequest(user_name="pia"))
        assert shown_by(client, node_b) == 303
    admin.create_login_profile(ram.CreateLoginProfileRequest(user_name="pia", password="again!!!"))
    with signed_in_on(node_a, "pia", "again!!!") as client:
        assert shown_by(client, node_b) == 200
        admin.detach_policy_from_user(
            ram.DetachPolicyFromUserRequest(
                policy_type="System", policy_name=READ_ONLY, user_name="pia"
            )
        )
        admin.delete_user(ram.DeleteUserRequest(user_name="pia"))
        assert shown_by(client, node_b) == 303


def test_a_policy_detached_on_node_a_hides_the_pages_on_node_b(
    nodes: tuple[Cluster, Cluster],
) -> None:
    node_a, node_b = nodes
    console_user(node_a, "rita", "rita's password")
    instance_id = node_a.register_agent("listed").instance_id
    with signed_in_on(node_a, "rita", "rita's password") as client:
        before = client.get(f"http://{node_b.endpoint}/console/instances")
        assert instance_id in before.text
        ram_client(node_a).detach_policy_from_user(
            ram.DetachPolicyFromUserRequest(
                policy_type="System", policy_name=READ_ONLY, user_name="rita"
            )
        )
        after = client.get(f"http://{node_b.endpoint}/console/instances")
        assert after.status_code == 200 and instance_id not in after.text


def test_a_key_disabled_on_node_a_ends_its_console_session_on_node_b(
    nodes: tuple[Cluster, Cluster],
) -> None:
    node_a, node_b = nodes
    admin = ram_client(node_a)
    console_user(node_a, "kim", "kim's password")
    key = admin.create_access_key(ram.CreateAccessKeyRequest(user_name="kim")).body.access_key
    with browser(node_a) as client:
        answer = sign_in(client, "key", key.access_key_id, key.access_key_secret)
        assert answer.status_code == 303
        assert shown_by(client, node_b) == 200
        admin.update_access_key(
            ram.UpdateAccessKeyRequest(
                user_name="kim", user_access_key_id=key.access_key_id, status="Inactive"
            )
        )
        assert shown_by(client, node_b) == 303


def test_the_first_users_session_is_one_on_both_nodes_with_nothing_copied(
    nodes: tuple[Cluster, Cluster],
) -> None:
    node_a, node_b = nodes
    for node in nodes:  # the secret and the password's hash are in the store, not on disk
        assert not (node.root / "data" / "console-secret").exists()
        assert not (node.root / "data" / "console-users.json").exists()
    # One first password, written by the node that gave it.
    assert not (node_b.root / "data" / "console-credentials.json").exists()
    password = console_password(node_a)
    with signed_in_on(node_a, "admin", password) as client:
        assert shown_by(client, node_b) == 200
    with signed_in_on(node_b, "admin", password) as client:
        assert shown_by(client, node_a) == 200


def test_an_earlier_versions_files_are_imported_once_and_its_sessions_go_on(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A node upgraded from a version that kept ``console-secret`` and ``console-users.json``:
    a session it signed before the upgrade is a session on it and on a new node after; its
    users sign in on either node with their old passwords; the files are not read again."""
    root_a, root_b = tmp_path_factory.mktemp("upgraded-a"), tmp_path_factory.mktemp("upgraded-b")
    data = root_a / "data"
    data.mkdir(mode=0o700)
    old_secret = secrets.token_bytes(32)
    users = {"admin": hash_password("admin's old password"), "ops": hash_password("ops' pass")}
    write_private(data / "console-secret", old_secret)
    write_private(data / "console-users.json", json.dumps({"users": users}).encode())
    signer = SessionSigner(old_secret)
    cookie = signer.dump(signer.new("user:admin", session_mark(users["admin"])))
    with (
        temporary_postgres_database() as url,
        Cluster.start(root_a, url, log_level="info") as node_a,
        node_a.another_node(root_b) as node_b,
    ):
        for node in (node_a, node_b):
            with browser(node) as client:
                client.cookies.set("oa_console", cookie, path="/console")
                assert shown_by(client, node) == 200, node.server_log.read_text()[-2000:]
        with signed_in_on(node_b, "ops", "ops' pass") as client:
            assert shown_by(client, node_a) == 200
        with signed_in_on(node_b, "admin", "admin's old password") as client:
            assert shown_by(client, node_a) == 200
        assert not (data / "console-secret").exists()
        assert not (data / "console-users.json").exists()
        assert (data / "console-users.json.imported").exists()
        assert not (data / "console-credentials.json").exists()  # no new password on upgrade
        log = node_a.server_log.read_text()
        assert "console user ops from console-users.json: created as a RAM user" in log
        assert "console user admin from console-users.json: given its console password" in log
        assert "console-secret: imported into the store" in log
        assert old_secret.hex() not in log and users["ops"] not in log
