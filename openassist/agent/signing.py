"""Signing the agent's requests as the official agent does (API.md 6.8)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from pathlib import Path

from openassist.agent import clock, openssl_signer
from openassist.agent.identity import Identity
from openassist.protocol import agent as wire


def md5_rsa_signer(key_pem: bytes) -> Callable[[bytes], bytes]:
    """RSA PKCS#1 v1.5 with MD5, as the official protocol signs (the RSA key carries the
    security). Bound to the process's OpenSSL when possible, else through ``cryptography``."""
    bound = openssl_signer.load(key_pem, "MD5")
    if bound is not None:
        return bound
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the instance key is not an RSA key")
    return lambda message: key.sign(message, padding.PKCS1v15(), hashes.MD5())  # noqa: S303


class RequestSigner:
    def __init__(self, identity: Identity, key_path: Path | None = None) -> None:
        self._identity = identity
        self._sign = md5_rsa_signer((key_path or identity.key_path).read_bytes())

    def headers(self) -> dict[str, str]:
        timestamp = str(clock.now_ms())
        request_id = str(uuid.uuid4())
        message = self._identity.instance_id + self._identity.machine_id + timestamp + request_id
        signature = self._sign(message.encode())
        return {
            wire.H_INSTANCE: self._identity.instance_id,
            wire.H_TIMESTAMP: timestamp,
            wire.H_REQUEST: request_id,
            wire.H_SIGNATURE: base64.b64encode(signature).decode(),
        }
