"""The gateway and the API take the time from the injected clock, so a test (or a node with a
managed clock) decides what "now" is for the decisions they make."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from openassist.agent import openssl_signer
from openassist.agent.keys import new_key, private_pem, public_key_field
from openassist.server.gateway.auth import AgentAuthError, AgentHeaders, AgentVerifier
from openassist.server.service.clock import SystemClock, utc_now
from tests.unit.test_agent_signing import _instance


class FixedClock:
    def __init__(self, now_ms: int) -> None:
        self.ms = now_ms

    def now_ms(self) -> int:
        return self.ms


def test_utc_now_is_the_clocks_time() -> None:
    assert utc_now(FixedClock(1_700_000_000_123)) == datetime(
        2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC
    )
    assert abs(utc_now(SystemClock()).timestamp() * 1000 - SystemClock().now_ms()) < 60_000


def test_the_agent_verifier_judges_timestamps_by_its_clock() -> None:
    key = new_key()
    sign = openssl_signer.load(private_pem(key))
    assert sign is not None
    signed_at = "1000000"  # long ago by the wall clock, now by the injected one
    message = b"mi-testmachine-1" + signed_at.encode() + b"r-1"
    headers = AgentHeaders("mi-test", signed_at, "r-1", base64.b64encode(sign(message)).decode())
    instance = _instance(public_key_field(key))
    clock = FixedClock(1_000_000 + 60_000)
    AgentVerifier(clock).verify(headers, instance)
    clock.ms += 16 * 60 * 1000  # past the 15 minutes of skew
    with pytest.raises(AgentAuthError, match="15 minutes"):
        AgentVerifier(clock).verify(headers, instance)
