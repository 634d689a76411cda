"""Real local attackers for the security tests: an unprivileged user, a sticky world-writable
directory like /tmp, a root-only file to aim at, and an attacker process running as that user.

The attacker is a short Python program given on the command line (the test's own files are in
root-only directories it cannot read), run with the system interpreter in isolated mode. Every
attacker loop is bounded in count and in time.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DEDICATED_USER = "oa-attacker"
SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="acting for another user needs root")


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int


@contextlib.contextmanager
def unprivileged_user() -> Iterator[User]:
    """``nobody`` when the machine has it, else a dedicated user made for the test (removed
    after it)."""
    try:
        entry = pwd.getpwnam("nobody")
        yield User(entry.pw_name, entry.pw_uid, entry.pw_gid)
        return
    except KeyError:
        pass
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", DEDICATED_USER],
        check=True,
        capture_output=True,
    )
    try:
        entry = pwd.getpwnam(DEDICATED_USER)
        yield User(entry.pw_name, entry.pw_uid, entry.pw_gid)
    finally:
        subprocess.run(["userdel", DEDICATED_USER], check=False, capture_output=True)


@contextlib.contextmanager
def shared_directory() -> Iterator[Path]:
    """A fresh directory like /tmp: world-writable with the sticky bit, owned by root."""
    path = Path(tempfile.mkdtemp(prefix="oa-shared-", dir="/tmp"))
    os.chmod(path, 0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Prize:
    """A root-owned 0600 file the attacker wants: its state before the attack, to compare."""

    path: Path
    content: bytes = b"root's secret\n"

    def plant(self) -> Prize:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(self.content)
        os.chmod(self.path, 0o600)
        return self

    def untouched(self) -> bool:
        status = os.lstat(self.path)
        return (
            stat.S_ISREG(status.st_mode)
            and status.st_uid == 0
            and stat.S_IMODE(status.st_mode) == 0o600
            and self.path.read_bytes() == self.content
        )

    def describe(self) -> str:
        status = os.lstat(self.path)
        return f"uid {status.st_uid}, mode {oct(stat.S_IMODE(status.st_mode))}"


def start_attacker(user: User, program: str, *args: str) -> subprocess.Popen[bytes]:
    """Run ``program`` (Python source) as ``user``; ``sys.argv[1:]`` are ``args``."""
    # The system's interpreter: the test's own may live under root's home, closed to the user.
    interpreter = next((p for p in SYSTEM_PYTHONS if os.access(p, os.X_OK)), None)
    if interpreter is None:
        pytest.skip(f"no system Python ({', '.join(SYSTEM_PYTHONS)}) for the attacker")
    return subprocess.Popen(
        [interpreter, "-I", "-S", "-c", program, *args],
        user=user.uid,
        group=user.gid,
        extra_groups=[],
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop_attacker(attacker: subprocess.Popen[bytes], stop_file: Path) -> str:
    """Tell the attacker to stop (it polls ``stop_file``), wait, and return what it printed."""
    stop_file.touch()
    try:
        output, _ = attacker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        attacker.kill()
        output, _ = attacker.communicate()
    return output.decode(errors="replace")
