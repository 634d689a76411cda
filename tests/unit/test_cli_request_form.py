"""The CLI's request without urllib.parse: its endpoint read as urlsplit reads it, its form body
decoded by the server's parser (parse_qsl) into exactly the parameters it signed, the signature
over them the one the server computes."""

from __future__ import annotations

import socket
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openassist.cli.api_client import ApiClient, Credentials, split_url
from openassist.protocol.acs_signature import sign_v1, string_to_sign_v1


def _urlsplit(url: str) -> tuple[str, str, int | None, str] | str:
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname or "", parts.port, parts.path
    except ValueError as error:
        return str(error)


def _split(url: str) -> tuple[str, str, int | None, str] | str:
    try:
        return split_url(url)
    except ValueError as error:
        return str(error)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8640",
        "https://Api.Example.COM:8640/base/",
        "HTTP://host",
        "http://host:",
        "http://host:65536",
        "http://host:x1",
        "http://[::1]:8640/",
        "http://user@host:1/p?q#f",
        "http://h\t:1",
        "http://hé:1",
        "ftp://host:21",
    ],
)
def test_an_endpoint_is_read_as_urlsplit_reads_it(url: str) -> None:
    assert _split(url) == _urlsplit(url)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.sampled_from(["http", "https", "HTTPS", "h2", ""]),
    st.text(alphabet="aZ09.-_:[]@?#%/\\ \té", max_size=24),
)
def test_any_endpoint_is_read_as_urlsplit_reads_it(scheme: str, rest: str) -> None:
    url = f"{scheme}://{rest}"
    assert _split(url) == _urlsplit(url)


def test_the_form_body_decodes_to_the_signed_parameters() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    bodies: list[bytes] = []

    def answer_once() -> None:
        peer, _ = listener.accept()
        with peer, peer.makefile("rb") as stream:
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                length = int(value) if name.lower() == b"content-length" else length
            bodies.append(stream.read(length))
            peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")

    thread = threading.Thread(target=answer_once, daemon=True)
    thread.start()
    endpoint = f"127.0.0.1:{listener.getsockname()[1]}"
    client = ApiClient(Credentials("AK", "S&K", endpoint, "local"))
    tricky = {"CommandContent": "a b+c/d*e~f=g&h", "Name": "é ü", "Empty": ""}
    try:
        assert client.call("RunCommand", tricky) == {}
    finally:
        listener.close()
    thread.join(5)
    params = dict(parse_qsl(bodies[0].decode("ascii"), keep_blank_values=True))
    assert {name: params[name] for name in tricky} == tricky
    assert params["Action"] == "RunCommand"
    assert params["Signature"] == sign_v1("S&K", string_to_sign_v1("POST", params))
