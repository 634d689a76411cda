"""The kernel's accept queue of a listening port, watched from outside the server: connections
the kernel has completed and the server has not yet taken. During a reconnect storm this is
where agents wait when the server's event loop is behind (or starved of CPU), invisible to the
server itself; an agent whose wait here outlasts its timeout gives up and comes back later."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

LISTEN = "0A"  # the state column of /proc/net/tcp for a listening socket


def accept_queue(port: int) -> int:
    """Connections waiting to be accepted on ``port`` now (for a listening socket, the
    rx_queue column of /proc/net/tcp is its accept queue's length)."""
    waiting = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                waiting += int(fields[4].split(":")[1], 16)
    return waiting


class AcceptQueueWatch:
    """Samples ``accept_queue(port)`` every ``every_s`` in a thread until stopped; the peak."""

    def __init__(self, port: int, every_s: float = 0.25) -> None:
        self._port, self._every_s = port, every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            self.peak = max(self.peak, accept_queue(self._port))

    def __enter__(self) -> AcceptQueueWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def handshake_gate(api_endpoint: str) -> str:
    """What the agent port's handshake gate did so far (listen/pacing.py, from /metrics):
    waiting now, done after waiting, closed after waiting too long; "" without a gate."""
    try:
        text = httpx.get(f"http://{api_endpoint}/metrics", timeout=30).text
    except httpx.HTTPError:
        return ""
    found = {
        line.split()[0].removeprefix("openassist_agent_handshakes_"): float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("openassist_agent_handshakes_")
    }
    if not found:
        return ""
    waiting, waited = found.get("waiting", 0), found.get("waited_total", 0)
    refused = found.get("refused_total", 0)
    return (
        f"; handshakes waiting {waiting:.0f}, done after waiting {waited:.0f},"
        f" closed unanswered {refused:.0f}"
    )
