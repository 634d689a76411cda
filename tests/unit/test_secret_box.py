"""Sealing of secret parameters: round trip, the name bound to the value, another key refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from openassist.server.service.secret_box import SecretBox, SecretUnreadable


def test_round_trip_and_key_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "parameter-store.key"
    box = SecretBox.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = box.seal("db_password", "pässword")
    assert "pässword" not in sealed and sealed != box.seal("db_password", "pässword")
    assert SecretBox.load_or_create(path).open("db_password", sealed) == "pässword"


def test_value_moved_to_another_name_does_not_open(tmp_path: Path) -> None:
    box = SecretBox.load_or_create(tmp_path / "k")
    with pytest.raises(SecretUnreadable):
        box.open("other_name", box.seal("db_password", "v"))


def test_another_key_cannot_open(tmp_path: Path) -> None:
    sealed = SecretBox.load_or_create(tmp_path / "a").seal("n", "v")
    other = SecretBox.load_or_create(tmp_path / "b")
    assert other.key_id != SecretBox.load_or_create(tmp_path / "a").key_id
    with pytest.raises(SecretUnreadable, match="cannot be decrypted"):
        other.open("n", sealed)
