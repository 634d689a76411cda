"""Tightening the data directory: owner-only below it, nothing followed outside it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from openassist.server.data_dir import secure_data_dir
from tests.support.unprivileged import process_umask


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_loose_modes_are_tightened_and_symlinks_are_not_followed(tmp_path: Path) -> None:
    data, outside = tmp_path / "data", tmp_path / "outside.txt"
    (data / "tls").mkdir(parents=True, mode=0o755)
    os.chmod(data, 0o755)
    os.chmod(data / "tls", 0o755)
    (data / "tls" / "ca.pem").write_text("ca")
    os.chmod(data / "tls" / "ca.pem", 0o644)
    (data / "run.sh").write_text("x")
    os.chmod(data / "run.sh", 0o750)
    outside.write_text("not the server's")
    os.chmod(outside, 0o644)
    (data / "link").symlink_to(outside)
    (tmp_path / "elsewhere").mkdir(mode=0o755)
    os.chmod(tmp_path / "elsewhere", 0o755)
    (data / "dirlink").symlink_to(tmp_path / "elsewhere")
    with process_umask(0o022):
        changes = secure_data_dir(data)
        assert os.umask(0o022) == 0o077
    assert _mode(data) == 0o700 and _mode(data / "tls") == 0o700
    assert _mode(data / "tls" / "ca.pem") == 0o600
    assert _mode(data / "run.sh") == 0o700
    assert _mode(outside) == 0o644 and _mode(tmp_path / "elsewhere") == 0o755
    assert sorted(changes) == sorted(
        [
            f"{data} was 0755, now 0700",
            f"{data / 'tls'} was 0755, now 0700",
            f"{data / 'tls' / 'ca.pem'} was 0644, now 0600",
            f"{data / 'run.sh'} was 0750, now 0700",
        ]
    )
    assert secure_data_dir(data) == []  # nothing left to change


def test_a_missing_data_directory_is_created_owner_only(tmp_path: Path) -> None:
    with process_umask(0o000):
        assert secure_data_dir(tmp_path / "new" / "data") == []
    assert _mode(tmp_path / "new" / "data") == 0o700
