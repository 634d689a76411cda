"""What an agent's registration must be before it may use an activation slot.

Registration is the gateway's one unauthenticated write: anyone holding an activation code may
send anything. The key becomes the instance's identity (every later request is verified with
it), so it must be an RSA key of at least 2048 bits with the public exponent 65537, the one the
official agent makes; the names are shown by every client and written to the log, so they are
bounded and printable. Each refusal names its field with a code of the ``errCode`` family below
(HTTP 400); the value itself is never echoed.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MIN_KEY_BITS = 2048
KEY_EXPONENT = 65537
MAX_KEY_TEXT = 16 * 1024  # a 4096-bit key's PEM, Base64 of it, is well under 1.2 kB

KEY_MALFORMED = "InvalidPublicKey.Malformed"
KEY_WEAK = "InvalidPublicKey.Weak"
HOSTNAME_MALFORMED = "InvalidHostname.Malformed"
INSTANCE_NAME_MALFORMED = "InvalidInstanceName.Malformed"
FIELD_MALFORMED = "InvalidParameter.{field}"  # the wire name: machineId, osVersion, ...

# Wire name -> longest accepted value (the store's column widths).
_FIELDS = {
    "machineId": 64,
    "osType": 32,
    "osVersion": 255,
    "agentVersion": 64,
    "intranetIp": 64,
}
MAX_HOSTNAME = 255
MAX_INSTANCE_NAME = 128


@dataclass(frozen=True)
class Registration:
    activation_id: str
    activation_code: str
    machine_id: str
    hostname: str
    instance_name: str
    os_type: str
    os_version: str
    agent_version: str
    public_key: str
    intranet_ip: str
    source_ip: str


class RegistrationRefused(Exception):
    """Registration was refused; the message says why (it goes back to the agent). ``code``
    is the ``errCode`` of a request that is itself wrong (HTTP 400); empty for a refusal by the
    activation or the access rules (HTTP 403)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def load_public_key(text: str) -> rsa.RSAPublicKey:
    """The registration's public key: PEM, or Base64 of the PEM as the official agent sends.
    Raises ValueError when it is neither, or not RSA."""
    data = text.encode()
    if b"-----BEGIN" not in data:
        try:
            data = base64.b64decode(data, validate=True)
        except binascii.Error as error:
            raise ValueError("neither PEM nor Base64 of a PEM") from error
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    return key


def _printable(text: str, longest: int) -> bool:
    return len(text) <= longest and text.isprintable()


def check_registration(request: Registration) -> None:
    """Raise RegistrationRefused (with its code) unless every field of ``request`` is sound."""
    if not _printable(request.hostname, MAX_HOSTNAME):
        raise RegistrationRefused(
            f"hostname must be at most {MAX_HOSTNAME} printable characters", HOSTNAME_MALFORMED
        )
    if not _printable(request.instance_name, MAX_INSTANCE_NAME):
        raise RegistrationRefused(
            f"instanceName must be at most {MAX_INSTANCE_NAME} printable characters",
            INSTANCE_NAME_MALFORMED,
        )
    values = {
        "machineId": request.machine_id,
        "osType": request.os_type,
        "osVersion": request.os_version,
        "agentVersion": request.agent_version,
        "intranetIp": request.intranet_ip,
    }
    for field, longest in _FIELDS.items():
        if not _printable(values[field], longest):
            raise RegistrationRefused(
                f"{field} must be at most {longest} printable characters",
                FIELD_MALFORMED.format(field=field),
            )
    _check_key(request.public_key)


def _check_key(text: str) -> None:
    if len(text) > MAX_KEY_TEXT:
        raise RegistrationRefused("publicKey is too long for an RSA public key", KEY_MALFORMED)
    try:
        key = load_public_key(text)
    except ValueError as error:
        raise RegistrationRefused(
            f"publicKey is not an RSA public key in PEM or Base64 of PEM ({error})", KEY_MALFORMED
        ) from None
    numbers = key.public_numbers()
    if key.key_size < MIN_KEY_BITS or numbers.e != KEY_EXPONENT:
        raise RegistrationRefused(
            f"publicKey must be an RSA key of at least {MIN_KEY_BITS} bits with public exponent "
            f"{KEY_EXPONENT}; it has {key.key_size} bits and exponent {numbers.e}",
            KEY_WEAK,
        )
