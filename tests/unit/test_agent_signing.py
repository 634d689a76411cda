"""The agent's request signatures verify with the server's verifier, on both signing paths."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from openassist.agent import openssl_signer
from openassist.agent.identity import Identity
from openassist.agent.keys import new_key, private_pem, public_key_field
from openassist.agent.signing import RequestSigner
from openassist.server.gateway.auth import AgentAuthError, AgentHeaders, AgentVerifier
from openassist.server.store.records import Instance
from tests.support.store import registered_instance


@pytest.fixture(scope="module")
def key_pem() -> tuple[bytes, str]:
    key = new_key()
    return private_pem(key), public_key_field(key)


def _instance(public_key: str) -> Instance:
    return registered_instance("mi-test", machine_id="machine-1", public_key=public_key)


def test_openssl_binding_matches_cryptography(key_pem: tuple[bytes, str]) -> None:
    sign = openssl_signer.load(key_pem[0], "MD5")
    assert sign is not None, "libcrypto of the ssl module could not be bound"
    from openassist.server.service.registration import load_public_key

    load_public_key(key_pem[1]).verify(
        sign(b"message"), b"message", padding.PKCS1v15(), hashes.MD5()
    )


def test_agent_headers_verify_on_the_server(key_pem: tuple[bytes, str], tmp_path: Path) -> None:
    (tmp_path / "instance.key").write_bytes(key_pem[0])
    identity = Identity("mi-test", "machine-1", "127.0.0.1", 1, "local", tmp_path)
    headers = AgentHeaders.parse(RequestSigner(identity).headers())
    AgentVerifier().verify(
        headers,
        _instance(key_pem[1]),
    )  # replays: test_attack_replay


def test_a_request_signed_with_another_key_is_refused(
    key_pem: tuple[bytes, str], tmp_path: Path
) -> None:
    (tmp_path / "instance.key").write_bytes(private_pem(new_key()))
    identity = Identity("mi-test", "machine-1", "127.0.0.1", 1, "local", tmp_path)
    headers = AgentHeaders.parse(RequestSigner(identity).headers())
    with pytest.raises(AgentAuthError, match="does not match"):
        AgentVerifier().verify(
            headers,
            _instance(key_pem[1]),
        )


def test_a_stale_timestamp_is_refused(key_pem: tuple[bytes, str]) -> None:
    sign = openssl_signer.load(key_pem[0])
    assert sign is not None
    stale = "1000"
    signature = base64.b64encode(sign(b"mi-testmachine-1" + stale.encode() + b"r-1")).decode()
    headers = AgentHeaders("mi-test", stale, "r-1", signature)
    with pytest.raises(AgentAuthError, match="15 minutes"):
        AgentVerifier().verify(
            headers,
            _instance(key_pem[1]),
        )


def test_agent_run_path_does_not_import_cryptography() -> None:
    code = (
        "import sys, openassist.cli.agent_command; "
        "print(any(m.startswith('cryptography') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
