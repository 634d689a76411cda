"""A network namespace joined to the host by a veth pair: a host of the test's own, whose link
to the server can be cut and healed (needs root and ``ip``)."""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass


def unavailable_reason() -> str:
    """Why namespaces cannot be made here ("" when they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "network namespaces need iproute2's `ip` (scripts/system-packages installs it)"
    return ""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@dataclass(frozen=True)
class NetnsHost:
    name: str
    host_dev: str
    ns_dev: str
    host_ip: str  # the server listens here; the namespace reaches the host through it
    ns_ip: str

    @property
    def wrapper(self) -> tuple[str, ...]:
        """Prefix that runs a command inside the namespace."""
        return ("ip", "netns", "exec", self.name)

    def cut(self) -> None:
        """Take the namespace's end of the link down: packets go nowhere, no peer hears of it."""
        _ip("netns", "exec", self.name, "ip", "link", "set", self.ns_dev, "down")

    def heal(self) -> None:
        _ip("netns", "exec", self.name, "ip", "link", "set", self.ns_dev, "up")


@contextlib.contextmanager
def netns_host() -> Iterator[NetnsHost]:
    """A fresh namespace with a /30 link to the host (unique names; removed afterwards)."""
    tag = secrets.token_hex(3)
    block = random.randrange(0, 64) * 4
    third = random.randrange(0, 256)
    host = NetnsHost(
        name=f"oa-part-{tag}",
        host_dev=f"oa{tag}h",
        ns_dev=f"oa{tag}n",
        host_ip=f"10.231.{third}.{block + 1}",
        ns_ip=f"10.231.{third}.{block + 2}",
    )
    _ip("netns", "add", host.name)
    try:
        _ip("link", "add", host.host_dev, "type", "veth", "peer", "name", host.ns_dev)
        _ip("link", "set", host.ns_dev, "netns", host.name)
        _ip("addr", "add", f"{host.host_ip}/30", "dev", host.host_dev)
        _ip("link", "set", host.host_dev, "up")
        inside = ("netns", "exec", host.name, "ip")
        _ip(*inside, "addr", "add", f"{host.ns_ip}/30", "dev", host.ns_dev)
        _ip(*inside, "link", "set", host.ns_dev, "up")
        _ip(*inside, "link", "set", "lo", "up")
        yield host
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", host.host_dev)  # deletes both ends of the pair
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "del", host.name)
