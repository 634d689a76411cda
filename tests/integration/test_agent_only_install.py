"""A plain ``pip install`` of the repository is the agent and the CLI: a fresh virtual
environment holds none of the server's libraries, ``openassist server`` there says which extra
brings them, and ``openassist agent run`` from it takes and runs a task of a real server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from tests.support.cluster import Cluster, wait_until

REPOSITORY = Path(__file__).resolve().parents[2]
# Copied into the build: what `pip install .` needs and nothing it would write into (build/).
SOURCES = ("pyproject.toml", "README.md", "openassist")


def _requirement_names(extra: str | None) -> set[str]:
    """Distribution names that this installation's metadata lists (for ``extra``, or plain)."""
    names: set[str] = set()
    for requirement in metadata.requires("openassist") or []:
        name, _, marker = requirement.partition(";")
        in_extra = re.search(r"extra\s*==\s*['\"]([\w-]+)['\"]", marker)
        if (in_extra.group(1) if in_extra else None) == extra:
            names.add(re.split(r"[\s\[<>=!~]", name.strip(), maxsplit=1)[0].lower())
    return names


def _install_plainly(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        origin = REPOSITORY / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(source)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    return venv


def test_plain_install_is_the_agent_without_the_servers_libraries(tmp_path: Path) -> None:
    server_only = _requirement_names("server") | _requirement_names("postgres")
    assert {"sqlalchemy", "starlette", "uvicorn"} <= server_only
    venv = _install_plainly(tmp_path)
    listed = subprocess.run(
        [str(venv / "bin" / "pip"), "list", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    installed = {entry["name"].lower() for entry in json.loads(listed.stdout)}
    assert "openassist" in installed
    assert _requirement_names(None) <= installed  # msgspec, cryptography
    assert not installed & server_only, installed & server_only

    refused = subprocess.run(
        [str(venv / "bin" / "openassist"), "server", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "pip install 'openassist[server]'" in refused.stderr
    assert not (tmp_path / "data").exists()

    # The systemd unit is part of the plain install (package data), written for its venv.
    units = tmp_path / "units"
    wrote = subprocess.run(
        [str(venv / "bin" / "openassist"), "agent", "install-service", "--unit-dir", str(units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert wrote.returncode == 0, wrote.stderr
    assert (
        f"ExecStart={venv}/bin/openassist agent run"
        in (units / "openassist-agent.service").read_text()
    )

    with Cluster.start(tmp_path / "cluster") as cluster:
        activation = cluster.call("CreateActivation", InstanceCount="1")
        state_dir = tmp_path / "agent-state"
        agent_cli = [str(venv / "bin" / "openassist"), "--log-level", "warning", "agent"]
        registered = subprocess.run(
            [
                *agent_cli,
                "register",
                "--server",
                f"127.0.0.1:{cluster.agent_port}",
                "--ca",
                str(cluster.ca_file),
                "--activation-id",
                activation["ActivationId"],
                "--activation-code",
                activation["ActivationCode"],
                "--state-dir",
                str(state_dir),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert registered.returncode == 0, registered.stderr
        instance_id = registered.stdout.strip()
        with (tmp_path / "agent.log").open("ab") as log:
            agent = subprocess.Popen(
                [*agent_cli, "run", "--state-dir", str(state_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,  # not the repository: only the fresh environment's code is found
            )
        try:
            wait_until(lambda: cluster.online(instance_id), 60, what="the agent to heartbeat")
            [result] = cluster.wait_final(cluster.run("echo from-plain", instance_id))
            assert (result["InvocationStatus"], result["Output"]) == ("Success", "from-plain\n")
            # The agent runs from the fresh environment, not from the test's.
            program = Path(f"/proc/{agent.pid}/cmdline").read_bytes().split(b"\0")[0]
            assert program.decode().startswith(str(venv))
        finally:
            agent.terminate()
            agent.wait(30)
