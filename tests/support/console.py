"""A browser-like HTTP client for the web console (cookies, CSRF tokens from the forms)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx

from tests.support.cluster import Cluster

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_password(cluster: Cluster) -> str:
    document = json.loads((cluster.root / "data" / "console-credentials.json").read_text())
    return str(document["Password"])


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def console_client(cluster: Cluster) -> httpx.Client:
    return httpx.Client(base_url=f"http://{cluster.endpoint}", timeout=30, trust_env=False)


def sign_in(client: httpx.Client, method: str, name: str, secret: str) -> httpx.Response:
    """Open the sign-in form, then submit it (without following the redirect)."""
    page = client.get("/console/signin")
    assert page.status_code == 200
    form: dict[str, Any] = {
        "csrf": csrf_of(page.text),
        "method": method,
        "name": name,
        "secret": secret,
        "next": "/console/",
    }
    return client.post("/console/signin", data=form)


@contextlib.contextmanager
def signed_in(cluster: Cluster) -> Iterator[httpx.Client]:
    """A client signed in as the first console user."""
    with console_client(cluster) as client:
        answer = sign_in(client, "user", "admin", console_password(cluster))
        assert answer.status_code == 303, answer.text
        yield client


def text_of(html: str) -> str:
    """The page's text, tags dropped and spaces folded (for assertions on what a reader sees)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
