"""``openassist agent register``: trade an activation for an instance identity."""

from __future__ import annotations

import platform
import socket
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives.asymmetric import rsa

from openassist.agent.channel import AGENT_VERSION, tls_context
from openassist.agent.http import HttpConnection, HttpError, HttpResponse
from openassist.agent.identity import (
    KEY_FILE,
    Identity,
    machine_id,
    save,
    split_address,
    write_private,
)
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
    key: rsa.RSAPrivateKey | None = None,
) -> Identity:
    """Register with the server and store the identity, key and CA owner-only in ``state_dir``.
    ``server``: HOST:PORT, or several separated by commas (nodes of one deployment): the first
    that answers takes the registration, and the agent fails over between all of them."""
    addresses = [a.strip() for a in server.split(",") if a.strip()]
    try:
        servers = [split_address(address) for address in addresses]
    except ValueError as error:
        raise RegistrationError(f"--server: {error}") from None
    if not servers:
        raise RegistrationError("--server must be HOST:PORT (or several, comma-separated)")
    key = key or new_key()
    unreachable: list[str] = []
    for host, port in servers:
        try:
            response = await _send(host, port, key, ca_file, activation_id, activation_code,
                                   instance_name, region_id)  # fmt: skip
            break
        except HttpError as error:
            unreachable.append(f"{host}:{port}: {error}")
    else:
        raise RegistrationError(f"cannot reach {'; '.join(unreachable)}")
    try:
        answer = msgspec.json.decode(response.body, type=wire.RegisterResponse)
    except msgspec.DecodeError:
        raise RegistrationError(f"HTTP {response.status}: {response.body[:200]!r}") from None
    if answer.code != 200 or not answer.instanceId:
        raise RegistrationError(f"registration refused: {answer.errMsg or answer.code}")
    others = tuple(a for a in addresses if split_address(a) != (host, port))
    identity = Identity(answer.instanceId, machine_id(), host, port, region_id, state_dir, others)
    _store(identity, private_pem(key), ca_file)
    return identity


async def _send(
    host: str,
    port: int,
    key: rsa.RSAPrivateKey,
    ca_file: Path,
    activation_id: str,
    activation_code: str,
    instance_name: str,
    region_id: str,
) -> HttpResponse:
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
        return await connection.request(
            "POST",
            wire.REGISTER,
            headers={"Content-Type": "application/json"},
            body=msgspec.json.encode(request),
        )
    finally:
        await connection.close()


def _store(identity: Identity, key_pem: bytes, ca_file: Path) -> None:
    identity.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(identity.state_dir / KEY_FILE, key_pem)
    if ca_file.resolve() != identity.ca_path.resolve():
        write_private(identity.ca_path, ca_file.read_bytes())
    save(identity)
