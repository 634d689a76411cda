"""The agent's identity on disk: instance id, key pair, server address and CA (owner-only files).

Registration creates it once; ``agent run`` loads it. Files live in the agent's state directory.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

IDENTITY_FILE = "identity.json"
KEY_FILE = "instance.key"
CA_FILE = "ca.pem"


@dataclass(frozen=True)
class Identity:
    instance_id: str
    machine_id: str
    server_host: str
    server_port: int
    region_id: str
    state_dir: Path
    # More gateway addresses ("HOST:PORT") of the same deployment (nodes sharing its database
    # and TLS material), tried in turn when the current one cannot be reached.
    other_servers: tuple[str, ...] = ()

    @property
    def servers(self) -> list[tuple[str, int]]:
        """Every address to try, the registered one first."""
        return [(self.server_host, self.server_port), *map(split_address, self.other_servers)]

    @property
    def key_path(self) -> Path:
        return self.state_dir / KEY_FILE

    @property
    def ca_path(self) -> Path:
        return self.state_dir / CA_FILE


def split_address(address: str) -> tuple[str, int]:
    """("host", port) of "HOST:PORT"; raises ValueError naming what is wrong."""
    host, _, port = address.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"a server address must be HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` owner-only (0600) from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_NOFOLLOW and fchmod: the mode is set on the file opened, never through a name that a
    # planted symlink could send elsewhere (a file of an older release may be looser).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)


def save(identity: Identity) -> None:
    document = {
        "instanceId": identity.instance_id,
        "machineId": identity.machine_id,
        "serverHost": identity.server_host,
        "serverPort": identity.server_port,
        "regionId": identity.region_id,
    }
    if identity.other_servers:
        document["otherServers"] = list(identity.other_servers)
    write_private(identity.state_dir / IDENTITY_FILE, json.dumps(document, indent=2).encode())


def load(state_dir: Path) -> Identity:
    """Raises FileNotFoundError when the agent was never registered in ``state_dir``."""
    document = json.loads((state_dir / IDENTITY_FILE).read_text())
    return Identity(
        instance_id=document["instanceId"],
        machine_id=document["machineId"],
        server_host=document["serverHost"],
        server_port=int(document["serverPort"]),
        region_id=document.get("regionId", ""),
        state_dir=state_dir,
        other_servers=tuple(document.get("otherServers", ())),
    )


def machine_id() -> str:
    """The host's machine id (systemd's), or a stable stand-in derived from the hostname."""
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = Path(candidate).read_text().strip()
        except OSError:
            continue
        if value:
            return value
    return base64.b32encode(socket.gethostname().encode()).decode().lower()[:32]


def boot_id(override: str = "") -> str:
    """The kernel's boot id; ``override`` (the settings' OPENASSIST_AGENT_BOOT_ID) replaces it
    (tests simulate a reboot with it, since they cannot reboot the machine)."""
    if override:
        return override
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def first_start_since_boot(state_dir: Path, current: str) -> bool:
    """Whether no earlier start of the agent saw boot ``current`` (a machine that rebooted, or
    no record of one); records ``current`` for the next start."""
    record = state_dir / "last-boot-id"
    try:
        previous = record.read_text().strip()
    except OSError:
        previous = ""
    with contextlib.suppress(OSError):  # unrecorded: this start's answer stands
        record.write_text(current)
    return not current or previous != current
