"""Attack: a console session that was ended keeps working after the server restarts (issue 13.7).

Sessions are signed cookies; sign-out used to be remembered in the server's memory only, so a
cookie kept from before the sign-out (a shared machine, a stolen cookie) was a session again
after a restart, and removing a console user (then a line of ``console-users.json``) left that
user's cookies valid.
"""

from __future__ import annotations

from alibabacloud_ram20150501 import models as ram

from tests.e2e.test_ram_sdk import ram_client
from tests.integration.test_nodes_console import console_user
from tests.support.cluster import Cluster
from tests.support.console import console_client, csrf_of, sign_in, signed_in


def _restart(cluster: Cluster) -> None:
    cluster.kill_server()
    cluster.restart_server()


def _session_works(cluster: Cluster, cookie: str) -> bool:
    with console_client(cluster) as client:
        client.cookies.set("oa_console", cookie, path="/console")
        return client.get("/console/").status_code == 200


def test_a_signed_out_session_stays_ended_after_a_restart(cluster: Cluster) -> None:
    with signed_in(cluster) as client:
        page = client.get("/console/")
        kept = client.cookies["oa_console"]
        assert client.post("/console/signout", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert not _session_works(cluster, kept)

    _restart(cluster)

    assert not _session_works(cluster, kept)


def test_removing_a_users_password_ends_their_sessions(cluster: Cluster) -> None:
    console_user(cluster, "bob", "bob's password")
    with console_client(cluster) as client:
        assert sign_in(client, "user", "bob", "bob's password").status_code == 303
        bobs = client.cookies["oa_console"]
    assert _session_works(cluster, bobs)
    _restart(cluster)
    assert _session_works(cluster, bobs)  # the session secret is the store's, kept

    admin = ram_client(cluster)
    admin.delete_login_profile(ram.DeleteLoginProfileRequest(user_name="bob"))
    _restart(cluster)
    assert not _session_works(cluster, bobs)

    admin.create_login_profile(
        ram.CreateLoginProfileRequest(user_name="bob", password="a new password")
    )
    _restart(cluster)  # a new password is not the old one's sessions
    assert not _session_works(cluster, bobs)
