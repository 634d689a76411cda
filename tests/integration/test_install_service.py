"""``openassist server install-service`` and ``openassist agent install-service`` (the README's
commands, run as written into a test directory): the units they write pass
``systemd-analyze verify`` and carry the options the README promises."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.readme import operating_commands

OPENASSIST = str(Path(sys.executable).with_name("openassist"))

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (scripts/system-packages installs systemd)",
)


def _openassist(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OPENASSIST, *args], capture_output=True, text=True, timeout=60, check=False
    )


def _service_section(unit: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    return dict(parser["Service"])


@needs_systemd_analyze
def test_the_readmes_install_service_commands_write_units_systemd_accepts(
    tmp_path: Path,
) -> None:
    commands = operating_commands("Running as services")
    assert [shlex.split(c)[1:3] for c in commands] == [
        ["server", "install-service"],
        ["agent", "install-service"],
    ]
    for command in commands:
        argv = shlex.split(command)
        made = _openassist(*argv[1:], "--unit-dir", str(tmp_path))
        assert made.returncode == 0, made.stderr
    server, agent = tmp_path / "openassist-server.service", tmp_path / "openassist-agent.service"
    # verify prints what it ignores (a misspelt option, a bad value) without failing: both count.
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(server), str(agent)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr

    served = _service_section(server)
    assert served["ExecStart"] == f"{OPENASSIST} server --data-dir /var/lib/openassist"
    assert served["StateDirectory"] == "openassist"
    assert served["ExecReload"] == "/bin/kill -HUP $MAINPID"  # the audit sink reopens its file
    expected = {"ProtectSystem": "strict", "PrivateTmp": "yes", "Restart": "on-failure"}
    assert expected.items() <= served.items()
    agent_service = _service_section(agent)
    assert agent_service["ExecStart"] == (
        f"{OPENASSIST} agent run --state-dir /var/lib/openassist-agent"
    )
    assert {"KillMode": "process", "Restart": "on-failure"}.items() <= agent_service.items()
    # The program the units start is this installation's, and it runs.
    assert _openassist("agent", "run", "--help").returncode == 0
    assert (server.stat().st_mode & 0o777, agent.stat().st_mode & 0o777) == (0o644, 0o644)


@needs_systemd_analyze
def test_a_broken_unit_is_caught_by_the_check(tmp_path: Path) -> None:
    """The check above can fail: a unit with a bad option value makes verify speak."""
    assert _openassist("agent", "install-service", "--unit-dir", str(tmp_path)).returncode == 0
    unit = tmp_path / "openassist-agent.service"
    unit.write_text(unit.read_text().replace("KillMode=process", "KillMode=scripts-survive"))
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert "kill mode" in verified.stderr


def test_the_server_data_dir_must_be_a_state_directory(tmp_path: Path) -> None:
    refused = _openassist(
        "server", "install-service", "--data-dir", "/srv/openassist", "--unit-dir", str(tmp_path)
    )
    assert refused.returncode == 1
    assert "/var/lib/NAME" in refused.stderr
    assert not list(tmp_path.iterdir())
