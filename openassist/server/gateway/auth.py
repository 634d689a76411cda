"""Verifying the official agent's request signatures (API.md 6.8).

Each request after registration carries ``x-acs-instance-id``, ``x-acs-timestamp`` (Unix ms),
``x-acs-request-id`` and ``x-acs-signature``: Base64 of an RSA PKCS#1 v1.5 signature with MD5
over ``instanceId + machineId + timestamp + requestId``, made with the key pair registered.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from openassist.server.service.clock import Clock, SystemClock
from openassist.server.service.registration import load_public_key
from openassist.server.store.records import Instance

CLOCK_SKEW_MS = 15 * 60 * 1000
# A request id first seen now may come back while its timestamp is still accepted: up to twice
# the skew (the agent's clock ahead by the whole skew).
REQUEST_ID_RETENTION_MS = 2 * CLOCK_SKEW_MS


class AgentAuthError(Exception):
    """The request is not from the instance it claims to be; the message says why."""


class AgentAccessDenied(Exception):
    """The request is genuine, but the agent access rules refuse its source address."""


@dataclass(frozen=True)
class AgentHeaders:
    instance_id: str
    timestamp: str
    request_id: str
    signature: str

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> AgentHeaders:
        values = [
            headers.get(f"x-acs-{name}", "")
            for name in ("instance-id", "timestamp", "request-id", "signature")
        ]
        if not all(values):
            raise AgentAuthError("missing x-acs-instance-id/timestamp/request-id/signature")
        return cls(*values)


def replayed() -> AgentAuthError:
    return AgentAuthError("x-acs-request-id was already used (replay)")


class AgentVerifier:
    """Checks signatures and timestamps; caches parsed public keys. Request-id replays are the
    gateway's replay guard's (durable, shared by nodes), checked once this passed."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._keys: dict[str, tuple[str, rsa.RSAPublicKey]] = {}
        self._clock = clock or SystemClock()

    def verify(self, headers: AgentHeaders, instance: Instance, now_ms: int | None = None) -> None:
        now_ms = self._clock.now_ms() if now_ms is None else now_ms
        if not headers.timestamp.isdigit() or abs(now_ms - int(headers.timestamp)) > CLOCK_SKEW_MS:
            raise AgentAuthError("x-acs-timestamp is missing or more than 15 minutes off")
        message = instance.id + instance.machine_id + headers.timestamp + headers.request_id
        try:
            signature = base64.b64decode(headers.signature, validate=True)
            self._key(instance).verify(
                signature,
                message.encode(),
                padding.PKCS1v15(),
                hashes.MD5(),  # noqa: S303
            )
        except (InvalidSignature, ValueError) as error:
            raise AgentAuthError("the request signature does not match the instance key") from error

    def _key(self, instance: Instance) -> rsa.RSAPublicKey:
        cached = self._keys.get(instance.id)
        if cached is None or cached[0] != instance.public_key:
            cached = (instance.public_key, load_public_key(instance.public_key))
            self._keys[instance.id] = cached
        return cached[1]
