"""Where the audit sink writes events: a JSON-lines file and syslog (RFC 5424).

Each outlet takes a batch of lines and either has them all (written, and for the file on disk)
or raises ``OutletError``; the sink then leaves the batch in the store to ship again, so an
outlet that is down delays events and never drops one. Calls block: the sink runs them in a
thread. The file is opened through a descriptor of its directory, never following a link,
and must be a regular file of this process's user with no other name (``O_NOFOLLOW``,
``fstat``); it is made owner-only with ``fchmod``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import select
import socket
import stat
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

SYSLOG_FACILITY = 13  # RFC 5424 "log audit"
SEVERITY_INFO, SEVERITY_NOTICE = 6, 5  # accepted calls; refusals and failures
APP_NAME = "openassist"
SEND_TIMEOUT_S = 5.0
SHORT_FIELD = 1024  # characters kept of a long field when an event is too large for a datagram
log = logging.getLogger(__name__)
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class OutletError(Exception):
    """An outlet could not take a batch (the message says what to fix)."""


@dataclass(frozen=True)
class Line:
    """One event to ship: its JSON document (one line, ASCII) and what syslog's header needs."""

    time_ms: int
    name: str  # the event's action: syslog's MSGID
    failed: bool  # refused or failed: syslog severity notice
    text: str


class Outlet(Protocol):
    def write(self, lines: Sequence[Line]) -> None: ...

    def reopen(self) -> None:
        """Let go of the file or socket; the next write opens it anew (SIGHUP)."""

    def close(self) -> None: ...


class FileOutlet:
    """Appends one line per event; renamed to ``NAME.1`` past ``max_bytes`` (0: never), and
    reopened when something (logrotate) moved it away: noticed before each batch, or at once on
    ``reopen`` (SIGHUP from logrotate's ``postrotate``), which lets go of the old file then."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._dir_fd: int | None = None
        self._fd: int | None = None

    def write(self, lines: Sequence[Line]) -> None:
        data = "".join(line.text + "\n" for line in lines).encode()
        try:
            fd = self._current()
            size = os.fstat(fd).st_size
            if self._max_bytes and size and size + len(data) > self._max_bytes:
                fd = self._rotate()
                size = 0
            self._append(fd, data, size)
        except OSError as error:
            raise OutletError(f"audit sink file {self.path}: {error.strerror or error}") from None

    def reopen(self) -> None:
        self.close()  # the directory too: it may have been replaced as well

    def close(self) -> None:
        for fd in (self._fd, self._dir_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._dir_fd = None

    def _append(self, fd: int, data: bytes, size: int) -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            # No half line stays behind (disk full): the whole batch is written again later.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise

    def _current(self) -> int:
        if self._dir_fd is None:
            self._dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        if self._fd is not None and not self._still_named():
            os.close(self._fd)
            self._fd = None
        if self._fd is None:
            self._fd = self._open()
        return self._fd

    def _still_named(self) -> bool:
        """Whether the path still names the open file (logrotate may have moved it)."""
        assert self._fd is not None
        try:
            named = os.stat(self.path.name, dir_fd=self._dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        held = os.fstat(self._fd)
        return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)

    def _open(self) -> int:
        try:
            fd = os.open(self.path.name, _OPEN_FLAGS, 0o600, dir_fd=self._dir_fd)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise OutletError(
                    f"audit sink file {self.path} is a symbolic link: name a regular file"
                ) from None
            raise
        try:
            self._check(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _check(self, fd: int) -> None:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            raise OutletError(f"audit sink file {self.path} is not a regular file")
        if found.st_uid != os.geteuid():
            raise OutletError(f"audit sink file {self.path} belongs to another user")
        if found.st_nlink != 1:
            raise OutletError(f"audit sink file {self.path} has other names (hard links)")
        if stat.S_IMODE(found.st_mode) & 0o077:
            os.fchmod(fd, 0o600)

    def _rotate(self) -> int:
        os.rename(
            self.path.name,
            self.path.name + ".1",
            src_dir_fd=self._dir_fd,
            dst_dir_fd=self._dir_fd,
        )
        if self._fd is not None:
            os.close(self._fd)
        self._fd = self._open()
        return self._fd


def _event_id(line: Line) -> str:
    try:
        return str(json.loads(line.text).get("eventId", "?"))
    except ValueError:
        return "?"


def shortened(line: Line) -> Line:
    """``line`` without what makes an event large (its request parameters; a long resource
    list, error message or user agent cut to ``SHORT_FIELD`` characters), marked
    ``"truncated": true``: still one JSON document with the event's id, time, action, who and
    outcome."""
    document = json.loads(line.text)
    document.pop("requestParameters", None)
    for key in ("resourceName", "errorMessage", "userAgent"):
        value = document.get(key)
        if isinstance(value, str) and len(value) > SHORT_FIELD:
            document[key] = value[:SHORT_FIELD]
    document["truncated"] = True
    text = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    return replace(line, text=text)


def _printable(text: str, limit: int) -> str:
    """An RFC 5424 header field: printable US-ASCII, no space, or the nil value."""
    kept = "".join(ch for ch in text if 33 <= ord(ch) <= 126)[:limit]
    return kept or "-"


def syslog_message(line: Line, hostname: str, procid: int) -> bytes:
    """``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`` (RFC 5424); MSG is ASCII
    JSON, so it carries no BOM."""
    severity = SEVERITY_NOTICE if line.failed else SEVERITY_INFO
    moment = datetime.fromtimestamp(line.time_ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    stamp = f"{moment}.{line.time_ms % 1000:03d}Z"
    header = (
        f"<{SYSLOG_FACILITY * 8 + severity}>1 {stamp} {_printable(hostname, 255)} "
        f"{APP_NAME} {procid} {_printable(line.name, 32)} -"
    )
    return f"{header} {line.text}".encode("ascii")


class SyslogOutlet:
    """RFC 5424 messages to ``udp://HOST:PORT``, ``tcp://HOST:PORT`` (octet counting, RFC
    6587) or ``unix:PATH`` (datagrams, as /dev/log takes them)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._socket: socket.socket | None = None
        self._stream = address.startswith("tcp://")
        self._hostname = socket.gethostname()

    def write(self, lines: Sequence[Line]) -> None:
        try:
            sock = self._connected()
            for line in lines:
                if self._stream:
                    message = syslog_message(line, self._hostname, os.getpid())
                    sock.sendall(f"{len(message)} ".encode() + message)
                else:
                    self._send_datagram(sock, line)
        except OSError as error:
            self.close()
            raise OutletError(f"audit sink syslog {self.address}: {error}") from None

    def _send_datagram(self, sock: socket.socket, line: Line) -> None:
        """One datagram; an event too large for one (EMSGSIZE: past 65,507 bytes over UDP, or
        the Unix socket's buffer) goes without its bulky fields, marked ``truncated`` (the whole
        event stays in LookupEvents by its eventId). Were even that too large, it is left out
        and logged: one event must never hold back the events after it."""
        for attempt in (line, shortened(line)):
            try:
                sock.send(syslog_message(attempt, self._hostname, os.getpid()))
                return
            except OSError as error:
                if error.errno != errno.EMSGSIZE:
                    raise
        log.error(
            "audit sink syslog %s: event %s is too large for one datagram even shortened; "
            "left out (it is in LookupEvents)",
            self.address,
            _event_id(line),
        )

    def reopen(self) -> None:
        self.close()

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _connected(self) -> socket.socket:
        if self._socket is not None and self._stream and _peer_closed(self._socket):
            self.close()  # a restarted syslog: what we sent now would go nowhere
        if self._socket is None:
            self._socket = self._connect()
        return self._socket

    def _connect(self) -> socket.socket:
        if self.address.startswith("unix:"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            target: Any = self.address[len("unix:") :]
        else:
            scheme, _, rest = self.address.partition("://")
            host, _, port = rest.rpartition(":")
            kind = socket.SOCK_STREAM if scheme == "tcp" else socket.SOCK_DGRAM
            family, _, _, _, target = socket.getaddrinfo(host.strip("[]"), int(port), type=kind)[0]
            sock = socket.socket(family, kind)
        sock.settimeout(SEND_TIMEOUT_S)
        try:
            sock.connect(target)
        except OSError:
            sock.close()
            raise
        return sock


def _peer_closed(sock: socket.socket) -> bool:
    """A stream whose other end has closed (readable with nothing to read) or reset."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
