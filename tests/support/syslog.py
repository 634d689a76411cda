"""A syslog receiver on a real socket (TCP with RFC 6587 octet counting, UDP, or a Unix
datagram socket), keeping every message it got, for the audit sink's tests."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.cluster import wait_until

# <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<host>\S+) "
    r"(?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) - (?P<msg>.*)$",
    re.S,
)


class SyslogReceiver:
    def __init__(self, kind: str, where: str | int = 0) -> None:
        self.kind = kind
        self.messages: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = False
        if kind == "unix":
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.bind(str(where))
            self.address = f"unix:{where}"
        else:
            kind_ = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
            self._socket = socket.socket(socket.AF_INET, kind_)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(("127.0.0.1", int(where)))
            if kind == "tcp":
                self._socket.listen()
            self.address = f"{kind}://127.0.0.1:{self._socket.getsockname()[1]}"
        self._socket.settimeout(0.2)
        self._threads = [threading.Thread(target=self._serve, daemon=True)]
        self._threads[0].start()

    def _keep(self, message: bytes) -> None:
        with self._lock:
            self.messages.append(message)

    def _serve(self) -> None:
        while not self._stop:
            try:
                if self.kind == "tcp":
                    connection, _ = self._socket.accept()
                    thread = threading.Thread(target=self._read_stream, args=(connection,))
                    thread.daemon = True
                    thread.start()
                    self._threads.append(thread)
                else:
                    self._keep(self._socket.recv(65536))
            except TimeoutError:
                continue
            except OSError:
                return

    def _read_stream(self, connection: socket.socket) -> None:
        buffer = b""
        connection.settimeout(0.2)
        with connection:
            while not self._stop:
                try:
                    data = connection.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    return
                buffer += data
                while b" " in buffer:  # octet counting: "LEN SP MSG"
                    length, _, rest = buffer.partition(b" ")
                    if len(rest) < int(length):
                        break
                    self._keep(rest[: int(length)])
                    buffer = rest[int(length) :]

    def documents(self) -> list[dict[str, Any]]:
        """Each message's JSON document (MSG), in arrival order."""
        with self._lock:
            messages = list(self.messages)
        found = []
        for message in messages:
            parsed = RFC5424.match(message.decode("ascii"))
            assert parsed, message
            found.append(json.loads(parsed["msg"]))
        return found

    def wait_for(self, event_id: str, count: int = 1, timeout_s: float = 60) -> None:
        wait_until(
            lambda: [d["eventId"] for d in self.documents()].count(event_id) >= count,
            timeout_s,
            what=f"{count} syslog message(s) of event {event_id}",
        )

    def close(self) -> None:
        self._stop = True
        self._socket.close()
        for thread in self._threads:
            thread.join(5)


@contextlib.contextmanager
def syslog_receiver(kind: str, where: str | int | Path = 0) -> Iterator[SyslogReceiver]:
    receiver = SyslogReceiver(kind, str(where) if isinstance(where, Path) else where)
    try:
        yield receiver
    finally:
        receiver.close()
