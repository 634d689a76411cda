"""The CLI's HTTP/1.1 client against a real loopback socket that answers as a server may:
Content-Length, chunked, close after the answer, close without answering, garbage."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from openassist.cli.http_wire import MAX_HEAD, BadResponse, Connection, ConnectionClosed

Answer = Callable[[socket.socket, int], "bool | None"]


def _read_request(peer: socket.socket) -> bytes | None:
    """The request's body; None when the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = peer.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = int(next(x.split(b":")[1] for x in lines if x.lower().startswith(b"content-length")))
    while len(body) < length:
        body += peer.recv(4096)
    return body


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], int]]:
    """Start a one-connection-at-a-time server answering with ``answer(peer, n)`` for the
    n-th request on a connection; its port."""
    listeners: list[socket.socket] = []

    def start(answer: Answer) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def loop() -> None:
            while True:
                try:
                    peer, _ = listener.accept()
                except OSError:
                    return
                with peer:
                    number = 0
                    while _read_request(peer) is not None:
                        number += 1
                        if answer(peer, number) is False:
                            break

        threading.Thread(target=loop, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in listeners:
        listener.close()


def _json(peer: socket.socket, body: bytes, extra: str = "") -> None:
    peer.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body)


def test_content_length_answers_share_one_connection(serve: Callable[[Answer], int]) -> None:
    port = serve(lambda peer, n: _json(peer, f'{{"n": {n}}}'.encode()))
    connection = Connection("127.0.0.1", port, 5)
    assert connection.post("/", b"a=1", "application/x-www-form-urlencoded") == (200, b'{"n": 1}')
    assert connection.post("/", b"a=2", "application/x-www-form-urlencoded") == (200, b'{"n": 2}')
    connection.close()


def test_chunked_answers_and_close(serve: Callable[[Answer], int]) -> None:
    def chunked(peer: socket.socket, _n: int) -> bool:
        peer.sendall(
            b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"
        )
        return False

    port = serve(chunked)
    connection = Connection("127.0.0.1", port, 5)
    assert connection.post("/", b"", "text/plain") == (400, b"hello world")
    assert not connection.open  # the server said close


def test_a_connection_closed_without_an_answer_and_garbage_are_errors(
    serve: Callable[[Answer], int],
) -> None:
    silent = Connection("127.0.0.1", serve(lambda peer, n: False), 5)
    with pytest.raises(ConnectionClosed):
        silent.post("/", b"x", "text/plain")
    garbage = Connection("127.0.0.1", serve(lambda peer, n: peer.sendall(b"SSH-2.0-x\r\n")), 5)
    with pytest.raises(BadResponse):
        garbage.post("/", b"x", "text/plain")

    def cut_short(peer: socket.socket, _n: int) -> bool:
        peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        return False  # and close

    short = Connection("127.0.0.1", serve(cut_short), 5)
    with pytest.raises(ConnectionClosed):
        short.post("/", b"x", "text/plain")


def test_the_api_client_sends_again_when_an_idle_kept_alive_connection_was_closed(
    serve: Callable[[Answer], int],
) -> None:
    from openassist.cli.api_client import ApiClient, Credentials

    connections: list[int] = []

    def once_per_connection(peer: socket.socket, number: int) -> bool:
        connections.append(number)
        _json(peer, b'{"Answered": true}')
        return False  # close after one answer, without saying so: an idle-timeout close

    port = serve(once_per_connection)
    client = ApiClient(Credentials("AK", "SK", f"127.0.0.1:{port}", "local"), keep_alive=True)
    try:
        assert client.call("DescribeInvocations", {}) == {"Answered": True}
        assert client.call("DescribeInvocations", {}) == {"Answered": True}
    finally:
        client.close()
    assert connections == [1, 1]  # two connections, each used once


def test_an_answer_sent_a_byte_at_a_time_is_read_whole(serve: Callable[[Answer], int]) -> None:
    """Lines and bodies that arrive over many receives (and a lookup of a name, not an address)."""
    body = b'{"Instances": []}'
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Long: %s\r\n\r\n" % (
        len(body),
        b"v" * 300,
    )

    def dribble(peer: socket.socket, _n: int) -> None:
        peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in answer + body:
            peer.sendall(bytes([byte]))

    connection = Connection("localhost", serve(dribble), 5)
    assert connection.post("/", b"x", "text/plain") == (200, body)
    assert connection.post("/", b"y", "text/plain") == (200, body)  # and the connection kept
    connection.close()


def test_a_header_line_past_the_limit_and_a_closed_port_are_errors(
    serve: Callable[[Answer], int],
) -> None:
    def endless(peer: socket.socket, _n: int) -> bool:
        peer.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n")
        return False

    with pytest.raises(BadResponse, match="too long"):
        Connection("127.0.0.1", serve(endless), 5).post("/", b"x", "text/plain")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: the connection is refused
        with pytest.raises(ConnectionRefusedError):
            Connection("127.0.0.1", port, 5).post("/", b"x", "text/plain")
