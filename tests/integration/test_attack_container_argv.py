"""Attack: a local user reads a secret off the command line of a container run (issue 13.8).

The agent ran a container script as ``docker exec ... /bin/sh -c <script>``: the exec's process
is a process of this host, and its command line (with every ``{{oos-secret:...}}`` value the
script holds) is in /proc/PID/cmdline, which any local user reads. The attacker here is a real
process of an unprivileged user scanning /proc while the run goes on (bounded in count and
time); the run is a real run of the agent's container runner in a real Docker engine.

Skips, with the reason, where the engine cannot start (no docker.io, no busybox, not root).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from openassist.agent.containers.engine import Engine
from openassist.agent.containers.run import ContainerRun
from openassist.agent.containers.target import pick, wanted
from openassist.agent.runner import ScriptSpec
from tests.support.attackers import (
    needs_root,
    shared_directory,
    start_attacker,
    stop_attacker,
    unprivileged_user,
)
from tests.support.docker_engine import DockerEngine, EngineUnavailable

pytestmark = needs_root

# Scan every process's command line for the secret until it is seen, the stop file appears,
# 60 s pass, or 200,000 passes are done; print what was found.
ATTACK = r"""
import os, sys, time
secret, stop = sys.argv[1].encode(), sys.argv[2]
deadline, passes, seen = time.monotonic() + 60, 0, []
while passes < 200_000 and time.monotonic() < deadline and not os.path.exists(stop) and not seen:
    passes += 1
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():  # its own holds the secret to look for
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if secret in handle.read():
                        seen.append(pid)
            except OSError:
                pass
print(passes, "seen" if seen else "clean")
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    with contextlib.ExitStack() as stack:
        try:
            running = stack.enter_context(DockerEngine.start(tmp_path_factory.mktemp("dk")))
        except EngineUnavailable as reason:
            pytest.skip(f"no Docker engine for the container tests: {reason}")
        running.run_container("vault-user")
        yield running


def _run(engine: DockerEngine, script: str, tmp_path: Path) -> tuple[bytes, int | None]:
    async def go() -> tuple[bytes, int | None]:
        docker = Engine(str(engine.socket))
        found = pick(await docker.containers(), wanted("", "vault-user"))
        spec = ScriptSpec(
            content=script.encode(),
            timeout_s=60.0,
            working_dir=None,
            script_dir=str(tmp_path / "scripts"),
            task_id="t-container-secret",
        )
        outcome = await ContainerRun(spec, (docker, found)).run()
        return outcome.output, outcome.exit_code

    return asyncio.run(go())


def test_a_local_user_does_not_see_the_secret_on_a_container_runs_command_line(
    engine: DockerEngine, tmp_path: Path
) -> None:
    secret = f"pw-{secrets.token_hex(12)}"
    with unprivileged_user() as user, shared_directory() as shared:
        stop = shared / "stop"  # the attacker polls it
        attacker = start_attacker(user, ATTACK, secret, str(stop))
        try:
            # The run lasts long enough for the attacker's scan to find any process of it; the
            # script itself passes the secret to no other program.
            script = f'pw="{secret}"; sleep 3; echo "${{#pw}}"'
            output, exit_code = _run(engine, script, tmp_path)
        finally:
            report = stop_attacker(attacker, stop)
    assert (output.strip(), exit_code) == (str(len(secret)).encode(), 0)  # it ran as written
    passes, verdict = report.split()
    assert int(passes) > 0  # the attacker was scanning all along
    assert verdict == "clean", "the secret was on a command line in /proc"


def test_a_container_script_reads_an_empty_stdin_and_never_its_own_text(
    engine: DockerEngine, tmp_path: Path
) -> None:
    output, exit_code = _run(engine, "echo before; cat; read line || echo eof; exit 3", tmp_path)
    assert (output, exit_code) == (b"before\neof\n", 3)


def test_the_script_does_not_see_the_variable_that_held_its_text(
    engine: DockerEngine, tmp_path: Path
) -> None:
    output, exit_code = _run(engine, 'echo "[${oa_script-unset}]"; exit 4', tmp_path)
    assert (output, exit_code) == (b"[unset]\n", 4)
