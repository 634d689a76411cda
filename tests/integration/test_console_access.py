"""The console's doors: sign-in (console user or access key), sessions, CSRF, logout; and that no
console page is served without a session. Real server, real HTTP."""

from __future__ import annotations

import stat

import pytest

from tests.support.cluster import Cluster
from tests.support.console import (
    console_client,
    console_password,
    csrf_of,
    sign_in,
    signed_in,
    text_of,
)

PAGES = [
    "/console/",
    "/console/invocations",
    "/console/invocations/t-0123456789abcdef01234567",
    "/console/invocations/t-0123456789abcdef01234567/instances/mi-1/output",
    "/console/instances",
    "/console/instances/mi-0123",
    "/console/run",
    "/console/sendfile",
    "/console/commands",
    "/console/commands/new",
    "/console/files/f-0123",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_not_served_without_a_session(cluster: Cluster, path: str) -> None:
    with console_client(cluster) as client:
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/signin?next=")
        assert "Command Execution Results" not in answer.text


def test_forms_are_refused_without_a_session(cluster: Cluster) -> None:
    with console_client(cluster) as client:
        for path in ("/console/run", "/console/sendfile", "/console/commands/new"):
            answer = client.post(path, data={"content": "echo hi", "instance_id": "mi-1"})
            assert answer.status_code == 403, path
        assert client.post("/console/signout", data={}).status_code == 403


def test_a_forged_cookie_is_not_a_session(cluster: Cluster) -> None:
    with signed_in(cluster) as client:
        cookie = client.cookies["oa_console"]
        payload, _, mac = cookie.partition(".")
        with console_client(cluster) as forger:
            forger.cookies.set("oa_console", f"{payload}.{mac[:-2]}AA", path="/console")
            assert forger.get("/console/").status_code == 303


def test_wrong_password_is_refused_and_sets_no_session(cluster: Cluster) -> None:
    with console_client(cluster) as client:
        answer = sign_in(client, "user", "admin", "not-the-password")
        assert answer.status_code == 401
        assert "The name or the secret is not correct." in answer.text
        assert "oa_console" not in client.cookies
        assert client.get("/console/").status_code == 303
        assert sign_in(client, "user", "nobody", console_password(cluster)).status_code == 401


def test_wrong_access_key_secret_is_refused(cluster: Cluster) -> None:
    with console_client(cluster) as client:
        key = cluster.credentials.access_key_id
        assert sign_in(client, "key", key, "wrong-secret").status_code == 401
        assert sign_in(client, "key", "OANOSUCHKEY", "x").status_code == 401


def test_access_key_signs_in_and_tasks_record_the_key(cluster: Cluster) -> None:
    with console_client(cluster) as client:
        credentials = cluster.credentials
        answer = sign_in(client, "key", credentials.access_key_id, credentials.access_key_secret)
        assert answer.status_code == 303
        page = client.get("/console/")
        assert page.status_code == 200
        assert f"Signed in as access key {credentials.access_key_id}" in text_of(page.text)


def test_sign_in_form_needs_its_token(cluster: Cluster) -> None:
    with console_client(cluster) as client:
        form = {"method": "user", "name": "admin", "secret": console_password(cluster)}
        assert client.post("/console/signin", data=form).status_code == 403
        client.get("/console/signin")
        assert client.post("/console/signin", data={**form, "csrf": "guess"}).status_code == 403
        assert "oa_console" not in client.cookies


def test_session_cookie_flags(cluster: Cluster) -> None:
    with console_client(cluster) as client:
        answer = sign_in(client, "user", "admin", console_password(cluster))
        cookie = next(
            v for k, v in answer.headers.multi_items() if k == "set-cookie" and "oa_console=" in v
        )
        flags = cookie.lower()
        assert "httponly" in flags and "samesite=strict" in flags and "path=/console" in flags
        assert "secure" not in flags  # plain-http loopback: a Secure cookie would never return


def test_posts_without_the_csrf_token_are_refused(cluster: Cluster) -> None:
    with signed_in(cluster) as client:
        before = cluster.call("DescribeInvocations")["TotalCount"]
        form = {"content": "echo hi", "instance_ids": "mi-nowhere", "Timeout": "60"}
        assert client.post("/console/run", data=form).status_code == 403
        assert client.post("/console/run", data={**form, "csrf": "forged"}).status_code == 403
        assert client.post("/console/signout", data={}).status_code == 403
        assert cluster.call("DescribeInvocations")["TotalCount"] == before
        assert client.get("/console/").status_code == 200  # still signed in


def test_logout_ends_the_session_even_for_a_kept_cookie(cluster: Cluster) -> None:
    with signed_in(cluster) as client:
        page = client.get("/console/")
        kept = client.cookies["oa_console"]
        answer = client.post("/console/signout", data={"csrf": csrf_of(page.text)})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/signin"
        assert client.get("/console/").status_code == 303
        with console_client(cluster) as replay:
            replay.cookies.set("oa_console", kept, path="/console")
            assert replay.get("/console/").status_code == 303


def test_sign_in_goes_back_only_to_console_pages(cluster: Cluster) -> None:
    with console_client(cluster) as client:
        page = client.get("/console/signin")
        form = {
            "csrf": csrf_of(page.text),
            "method": "user",
            "name": "admin",
            "secret": console_password(cluster),
            "next": "https://elsewhere.example/",
        }
        answer = client.post("/console/signin", data=form)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/"


def test_console_password_is_owner_only_and_never_logged(cluster: Cluster) -> None:
    data = cluster.root / "data"
    credentials = data / "console-credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    # The session secret and the password's hash are in the store, nothing of them on disk.
    assert not (data / "console-secret").exists() and not (data / "console-users.json").exists()
    password = console_password(cluster)
    with signed_in(cluster) as client:
        client.get("/console/")
    for log in cluster.root.rglob("*.log"):
        assert password not in log.read_text(errors="replace"), log


def test_the_api_still_answers_at_the_root(cluster: Cluster) -> None:
    assert "Invocations" in cluster.call("DescribeInvocations")
    with console_client(cluster) as client:
        static = client.get("/console/static/console.js")
        assert static.status_code == 200
        assert "data-live-state" in static.text
        assert client.get("/console/static/../app.py").status_code == 404
