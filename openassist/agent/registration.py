"""``openassist agent register``: trade an activation for an instance identity."""

from __future__ import annotations

import platform
import socket
from pathlib import Path

import msgspec

from openassist.agent.channel import AGENT_VERSION, tls_context
from openassist.agent.http import HttpConnection, HttpError
from openassist.agent.identity import KEY_FILE, Identity, machine_id, save, write_private
from openassist.agent.keys import new_key, private_pem, public_key_field
from openassist.protocol import agent as wire


class RegistrationError(Exception):
    """The server refused the registration or could not be reached; the message says why."""


def _intranet_ip(host: str, port: int) -> str:
    # The address this host uses to reach the server: no packet is sent for a UDP "connect".
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, port))
            return str(probe.getsockname()[0])
    except OSError:
        return ""


async def register(
    state_dir: Path,
    server: str,
    ca_file: Path,
    activation_id: str,
    activation_code: str,
    instance_name: str = "",
    region_id: str = "",
) -> Identity:
    """Register with the server and store the identity, key and CA owner-only in ``state_dir``."""
    host, _, port_text = server.rpartition(":")
    if not host or not port_text.isdigit():
        raise RegistrationError(f"--server must be HOST:PORT, got {server!r}")
    port = int(port_text)
    key = new_key()
    request = wire.RegisterRequest(
        activationCode=activation_code,
        activationId=activation_id,
        publicKey=public_key_field(key),
        machineId=machine_id(),
        regionId=region_id,
        instanceName=instance_name,
        hostname=socket.gethostname(),
        intranetIp=_intranet_ip(host, port),
        osVersion=platform.platform(),
        osType=platform.system() or "Linux",
        agentVersion=AGENT_VERSION,
    )
    connection = HttpConnection(host, port, tls_context(str(ca_file)))
    try:
        response = await connection.request(
            "POST",
            wire.REGISTER,
            headers={"Content-Type": "application/json"},
            body=msgspec.json.encode(request),
        )
    except HttpError as error:
        raise RegistrationError(f"cannot reach {server}: {error}") from error
    finally:
        await connection.close()
    try:
        answer = msgspec.json.decode(response.body, type=wire.RegisterResponse)
    except msgspec.DecodeError:
        raise RegistrationError(f"HTTP {response.status}: {response.body[:200]!r}") from None
    if answer.code != 200 or not answer.instanceId:
        raise RegistrationError(f"registration refused: {answer.errMsg or answer.code}")
    identity = Identity(answer.instanceId, request.machineId, host, port, region_id, state_dir)
    _store(identity, private_pem(key), ca_file)
    return identity


def _store(identity: Identity, key_pem: bytes, ca_file: Path) -> None:
    identity.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(identity.state_dir / KEY_FILE, key_pem)
    if ca_file.resolve() != identity.ca_path.resolve():
        write_private(identity.ca_path, ca_file.read_bytes())
    save(identity)
