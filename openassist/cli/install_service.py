"""``openassist server install-service`` and ``openassist agent install-service``: write the
systemd unit (``openassist/cli/units/``) for this installation, and start it when asked."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path, PurePosixPath

from openassist.cli.outcome import ExitCode

UNIT_DIR = "/etc/systemd/system"
SERVER_UNIT = "openassist-server.service"
AGENT_UNIT = "openassist-agent.service"
_STATE_ROOT = PurePosixPath("/var/lib")
_HOMES = ("/home/", "/root/", "/run/user/")


class InstallError(Exception):
    pass


def openassist_command() -> str:
    """This installation's ``openassist``: the script beside the interpreter (a venv's bin), or
    the interpreter running the CLI module."""
    script = Path(sys.executable).with_name("openassist")
    if script.is_file() and os.access(script, os.X_OK):
        return str(script.absolute())
    return f"{Path(sys.executable).absolute()} -m openassist.cli.main"


def template(name: str) -> str:
    return resources.files("openassist.cli").joinpath("units", name).read_text()


def server_unit(data_dir: str, command: str) -> str:
    """The server's unit; its data directory is a systemd StateDirectory (/var/lib/NAME), made
    and owned by the unit's own dynamic user."""
    path = PurePosixPath(data_dir)
    if path.parent != _STATE_ROOT or not path.name:
        raise InstallError(
            f"--data-dir {data_dir}: the service keeps its data in /var/lib/NAME (a systemd "
            "StateDirectory); name one there"
        )
    # ProtectHome would hide an installation that lives under a home directory.
    protect = "read-only" if command.startswith(_HOMES) else "yes"
    return template(SERVER_UNIT).format(
        openassist=command, state_name=path.name, protect_home=protect
    )


def agent_unit(state_dir: str, command: str) -> str:
    if not PurePosixPath(state_dir).is_absolute():
        raise InstallError(f"--state-dir {state_dir}: give an absolute path")
    return template(AGENT_UNIT).format(openassist=command, state_dir=state_dir)


def write_unit(unit_dir: Path, name: str, text: str) -> Path:
    """Write the unit 0644 through a new file renamed into place (never through a link)."""
    unit_dir.mkdir(parents=True, exist_ok=True)
    target = unit_dir / name
    partial = unit_dir / f".{name}.{os.getpid()}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(fd, 0o644)
        handle.write(text)
    os.replace(partial, target)
    return target


def run_install_service(args: argparse.Namespace, kind: str) -> int:
    command = openassist_command()
    try:
        if kind == "server":
            name, text = SERVER_UNIT, server_unit(args.data_dir, command)
        else:
            name, text = AGENT_UNIT, agent_unit(args.state_dir, command)
        written = write_unit(Path(args.unit_dir), name, text)
    except (InstallError, OSError) as error:
        print(f"openassist {kind} install-service: {error}", file=sys.stderr)
        return ExitCode.ERROR
    print(f"wrote {written}")
    unit = name.removesuffix(".service")
    if not args.start:
        print(f"start it with: systemctl daemon-reload && systemctl enable --now {unit}")
        return 0
    for step in (["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", unit]):
        done = subprocess.run(step, check=False)
        if done.returncode != 0:
            print(f"openassist {kind} install-service: {' '.join(step)} failed", file=sys.stderr)
            return ExitCode.ERROR
    print(f"{unit} enabled and started")
    return 0
