"""The agent's server addresses: the registered one first, then the others, each HOST:PORT."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from openassist.agent import identity
from openassist.agent.registration import RegistrationError, register


def test_an_identity_lists_every_address_and_keeps_them(tmp_path: Path) -> None:
    saved = identity.Identity(
        "mi-1", "m", "a.example", 8643, "local", tmp_path, ("b.example:8643", "[::1]:9")
    )
    identity.save(saved)
    loaded = identity.load(tmp_path)
    assert loaded == saved
    assert loaded.servers == [("a.example", 8643), ("b.example", 8643), ("::1", 9)]


@pytest.mark.parametrize("server", ["nohost", "a:1,b", "a:0", "a:x", ","])
def test_a_bad_server_list_is_refused_before_anything_is_sent(tmp_path: Path, server: str) -> None:
    with pytest.raises(RegistrationError, match="--server"):
        asyncio.run(register(tmp_path, server, tmp_path / "ca.pem", "id", "code"))
    assert not (tmp_path / identity.IDENTITY_FILE).exists()
