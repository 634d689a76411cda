"""Attack: a script reads the agent's own environment (issue 13, low). The agent's variables
(its settings, whatever its service manager or installer put there) never reach a script, run as
root or as another user: each gets the documented login-like set of its own user."""

from __future__ import annotations

import asyncio
import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest

from openassist.agent.runner import ScriptRun, ScriptSpec
from openassist.agent.script_env import ROOT_PATH, USER_PATH
from tests.support.attackers import User, needs_root, unprivileged_user

PROBE = "OPENASSIST_AGENT_PROBE_SECRET"


@pytest.fixture(autouse=True)
def agent_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PROBE, "s3cr3t-of-the-agent")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("TZ", "Europe/Berlin")


def _environment(script_dir: Path, username: str | None) -> dict[str, str]:
    spec = ScriptSpec(
        content=b"env",
        timeout_s=30.0,
        working_dir="/",
        script_dir=str(script_dir),
        task_id="t-env",
        username=username,
    )
    outcome = asyncio.run(ScriptRun(spec).run())
    assert outcome.error_code is None, outcome
    lines = outcome.output.decode().splitlines()
    # The shell adds its own (PWD, SHLVL, _): not the agent's.
    return {
        k: v
        for k, _, v in (line.partition("=") for line in lines)
        if k not in ("PWD", "SHLVL", "_", "OLDPWD")
    }


def _expected(name: str) -> dict[str, str]:
    entry = pwd.getpwnam(name)
    return {
        "HOME": entry.pw_dir,
        "USER": name,
        "LOGNAME": name,
        "SHELL": entry.pw_shell,
        "PATH": ROOT_PATH if entry.pw_uid == 0 else USER_PATH,
        "LANG": "C.UTF-8",
        "TZ": "Europe/Berlin",
    }


def test_a_script_of_the_agents_own_user_gets_only_the_documented_set(tmp_path: Path) -> None:
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert _environment(tmp_path / "scripts", None) == _expected(me)


@pytest.fixture
def user() -> Iterator[User]:
    with unprivileged_user() as found:
        yield found


@needs_root
def test_a_run_as_script_gets_its_users_login_environment(tmp_path: Path, user: User) -> None:
    assert _environment(tmp_path / "scripts", user.name) == _expected(user.name)


def test_variables_the_operator_names_are_passed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("OPENASSIST_AGENT_SCRIPT_ENV", "https_proxy, NOT_SET_HERE")
    me = pwd.getpwuid(os.geteuid()).pw_name
    expected = {**_expected(me), "https_proxy": "http://proxy.example:3128"}
    assert _environment(tmp_path / "scripts", None) == expected
