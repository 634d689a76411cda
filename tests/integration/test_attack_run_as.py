"""Attack: a run-as user (``Username``) turns root's handling of their script file against a
root-only file (issue 13.2).

The agent used to make the run directory, hand it to the user, then create, chmod and chown the
script by path: the user planted a symlink under the script's name (or swapped one in) and root's
open, chmod and chown followed it, so a root 0600 file became the user's. The attacker here is a
real process of an unprivileged user, looping (bounded in count and time) over the run
directories as they appear; the runs are real runs of the agent's runner as that user.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from openassist.agent.runner import ScriptRun, ScriptSpec
from tests.support.attackers import (
    Prize,
    User,
    needs_root,
    shared_directory,
    start_attacker,
    stop_attacker,
    unprivileged_user,
)

pytestmark = needs_root

RUNS = 120
TASK_ID = "t-attacked"

# Plant a symlink under the script's name in every run directory it can write, or swap one in
# over the script; stops on the stop file, after 60 s, or after 3 million passes.
ATTACK = r"""
import os, sys, time
base, name, target, stop = sys.argv[1:5]
deadline, passes = time.monotonic() + 60, 0
while passes < 3_000_000 and time.monotonic() < deadline and not os.path.exists(stop):
    passes += 1
    try:
        entries = os.listdir(base)
    except OSError:
        continue
    for entry in entries:
        if not entry.startswith("openassist-run-"):
            continue
        directory = os.path.join(base, entry)
        try:
            os.symlink(target, os.path.join(directory, name))
        except FileExistsError:
            try:
                os.symlink(target, os.path.join(directory, ".swap"))
                os.rename(os.path.join(directory, ".swap"), os.path.join(directory, name))
            except OSError:
                pass
        except OSError:
            pass
print(passes)
"""


@pytest.fixture
def user() -> Iterator[User]:
    with unprivileged_user() as found:
        yield found


@pytest.fixture
def run_base(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The agent's temporary directory (where run-as directories are made): a /tmp of its own."""
    with shared_directory() as base:
        monkeypatch.setattr(tempfile, "tempdir", str(base))
        yield base


def _spec(script: str, script_dir: Path, user: User) -> ScriptSpec:
    return ScriptSpec(
        content=script.encode(),
        timeout_s=30.0,
        working_dir="/",
        script_dir=str(script_dir),
        task_id=TASK_ID,
        username=user.name,
    )


def test_a_run_as_user_cannot_redirect_root_to_a_root_only_file(
    tmp_path: Path, user: User, run_base: Path
) -> None:
    prize = Prize(tmp_path / "root-only").plant()
    stop = run_base / "stop"
    attacker = start_attacker(
        user, ATTACK, str(run_base), f"{TASK_ID}.sh", str(prize.path), str(stop)
    )
    outputs = []
    try:
        for _ in range(RUNS):
            outcome = asyncio.run(ScriptRun(_spec("echo ok", tmp_path / "scripts", user)).run())
            outputs.append(outcome.output)
            if not prize.untouched():
                break
    finally:
        passes = stop_attacker(attacker, stop)
    assert prize.untouched(), f"root's 0600 file was changed: {prize.describe()}"
    assert int(passes.strip()) > 0  # the attacker was there all along
    assert outputs == [b"ok\n"] * RUNS  # and every run still ran the real script
    assert [p.name for p in run_base.iterdir()] == ["stop"]  # no run directory left


def test_the_script_is_the_users_in_a_directory_only_root_can_write(
    tmp_path: Path, user: User, run_base: Path
) -> None:
    script = (
        'stat -c "%U %a" "$0"; stat -c "%U %a" "$(dirname "$0")"; '
        'ln -s /etc/shadow "$(dirname "$0")/x" 2>/dev/null && echo wrote || echo refused'
    )
    outcome = asyncio.run(ScriptRun(_spec(script, tmp_path / "scripts", user)).run())
    assert outcome.error_code is None, outcome
    assert outcome.output.decode().splitlines() == [f"{user.name} 700", "root 711", "refused"]
