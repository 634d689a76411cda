"""Signing the agent's requests as the official agent does (API.md 6.8)."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from openassist.agent.identity import Identity
from openassist.protocol import agent as wire

KEY_BITS = 2048


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def public_key_field(key: rsa.RSAPrivateKey) -> str:
    """The registration's ``publicKey``: Base64 of the PEM public key."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(pem).decode()


class RequestSigner:
    def __init__(self, identity: Identity, key_path: Path | None = None) -> None:
        self._identity = identity
        loaded = serialization.load_pem_private_key(
            (key_path or identity.key_path).read_bytes(), password=None
        )
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError("the instance key is not an RSA key")
        self._key = loaded

    def headers(self) -> dict[str, str]:
        timestamp = str(time.time_ns() // 1_000_000)
        request_id = str(uuid.uuid4())
        message = self._identity.instance_id + self._identity.machine_id + timestamp + request_id
        # MD5 is what the official protocol signs with; the RSA signature carries the security.
        signature = self._key.sign(message.encode(), padding.PKCS1v15(), hashes.MD5())  # noqa: S303
        return {
            wire.H_INSTANCE: self._identity.instance_id,
            wire.H_TIMESTAMP: timestamp,
            wire.H_REQUEST: request_id,
            wire.H_SIGNATURE: base64.b64encode(signature).decode(),
        }
