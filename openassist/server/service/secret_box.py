"""Encryption at rest for secrets (secret parameters, access-key secrets, ClientToken answers):
AES-256-GCM with a key kept in a file outside the database, so a copy of the database alone
reveals no secret. A name is bound to each sealed value (associated data): a sealed value moved
to another name does not open."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openassist.server.private_files import write_private

SEALED_PREFIX = "aesgcm1:"  # every sealed value starts so; a plain one never does
_NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """A sealed value that this server's key cannot open (another key, or damaged data)."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the parameter store key must be 32 bytes")
        self._aead = AESGCM(key)
        # Names the key without revealing it; shown as KeyId in the OOS responses.
        self.key_id = "openassist-local-" + hashlib.sha256(key).hexdigest()[:12]

    @classmethod
    def load_or_create(cls, path: Path) -> SecretBox:
        """The key in ``path`` (owner-only), created with 32 random bytes on first use."""
        if not path.exists():
            write_private(path, base64.b64encode(os.urandom(32)) + b"\n")
        return cls(base64.b64decode(path.read_bytes().strip()))

    def seal(self, name: str, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), name.encode())
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, name: str, sealed: str) -> str:
        if not sealed.startswith(SEALED_PREFIX):
            raise SecretUnreadable(f"the value of {name} is not a sealed secret")
        raw = base64.b64decode(sealed[len(SEALED_PREFIX) :])
        try:
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], name.encode())
        except InvalidTag:
            raise SecretUnreadable(
                f"the secret {name} cannot be decrypted with this server's parameter store key"
            ) from None
        return plain.decode()
