"""The gateway and the API take the time from the injected clock, so a test (or a node with a
managed clock) decides what "now" is for the decisions they make."""

from __future__ import annotations

import ast
import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

import openassist.server
from openassist.agent import openssl_signer
from openassist.agent.keys import new_key, private_pem, public_key_field
from openassist.server.console.session import DEVICE_TTL_S, SESSION_TTL_S, SessionSigner
from openassist.server.gateway.auth import AgentAuthError, AgentHeaders, AgentVerifier
from openassist.server.service.clock import SystemClock, utc_now
from tests.support.store import registered_instance


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
    instance = registered_instance(
        "mi-test", machine_id="machine-1", public_key=public_key_field(key)
    )
    clock = FixedClock(1_000_000 + 60_000)
    AgentVerifier(clock).verify(headers, instance)
    clock.ms += 16 * 60 * 1000  # past the 15 minutes of skew
    with pytest.raises(AgentAuthError, match="15 minutes"):
        AgentVerifier(clock).verify(headers, instance)


def test_console_sessions_expire_by_the_injected_clock() -> None:
    clock = FixedClock(1_000_000_000)
    signer = SessionSigner(b"k" * 32, clock)
    cookie = signer.dump(signer.new("user:admin"))
    device = signer.device("user:admin")
    assert signer.load(cookie) is not None
    assert signer.device_of(device, "user:admin") is not None
    clock.ms += (max(SESSION_TTL_S, DEVICE_TTL_S) + 1) * 1000
    assert signer.load(cookie) is None
    assert signer.device_of(device, "user:admin") is None


# Where the server may still read the wall clock itself: the clock, a default for direct
# callers of the certificate helper, and the backup's own record of when it was made.
WALL_CLOCK_READERS = {"service/clock.py", "gateway/tls.py", "backup.py"}


def test_only_the_clock_reads_the_wall_clock_in_the_server() -> None:
    root = Path(openassist.server.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("time", "time_ns", "now"):
                base = node.value
                name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                if (name, node.attr) in {
                    ("time", "time"),
                    ("time", "time_ns"),
                    ("datetime", "now"),
                }:
                    found.add(str(path.relative_to(root)))
    assert found <= WALL_CLOCK_READERS, sorted(found - WALL_CLOCK_READERS)
