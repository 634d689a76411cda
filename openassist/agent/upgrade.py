"""Self-upgrade: install an agent package the server offered beside the running code, and
start the agent from it.

A package is a zip of the ``openassist`` Python package named ``openassist-agent-<version>.zip``.
It is unpacked into ``<state dir>/versions/<version>/`` and ``versions/current`` names the version
to run. ``openassist agent run`` starts from the installed code whatever started it (systemd runs
the originally installed entry point), by re-executing itself with that directory first on
``PYTHONPATH``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import shutil
import stat
import sys
import zipfile
from pathlib import Path, PurePosixPath

from openassist import __version__
from openassist.agent import start_guard
from openassist.agent.settings import BOOTSTRAPPED_ENV
from openassist.protocol import agent_versions
from openassist.protocol.agent_versions import version_key
from openassist.protocol.package_signature import signed_message

log = logging.getLogger("openassist.agent")


class PackageRefused(Exception):
    """The offered package is not one this agent will install (bad name, digest or content)."""


def package_version(file_name: str) -> str:
    """The version in a package's file name; raises PackageRefused for another name."""
    version = agent_versions.package_version(file_name)
    if version is None:
        raise PackageRefused(f"{file_name!r} is not an OpenAssist agent package")
    return version


def is_newer(offered: str, running: str = __version__) -> bool:
    return version_key(offered) > version_key(running)


def verify_signature(ca_path: Path, file_name: str, data: bytes, signature: str) -> None:
    """Refuse a package the server's key did not sign: its CA (which this agent trusts for
    TLS already) must verify ``signature`` over the package's name and SHA-256."""
    if not signature:
        raise PackageRefused(
            f"{file_name} is not signed; the server signs packages that "
            "`openassist agent package` made with its key"
        )
    # Imported here: only an upgrading agent needs cryptography.
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = x509.load_pem_x509_certificate(ca_path.read_bytes()).public_key()
    message = signed_message(file_name, hashlib.sha256(data).hexdigest())
    try:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature
        key.verify(base64.b64decode(signature, validate=True), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise PackageRefused(
            f"{file_name}: its signature is not the server's (another key signed it, or the "
            "package changed after signing)"
        ) from None


def _versions(state_dir: Path) -> Path:
    return state_dir / "versions"


def install(state_dir: Path, file_name: str, data: bytes, sha256: str) -> Path:
    """Check and unpack a package, then make it the version to run; returns its directory."""
    version = package_version(file_name)
    if hashlib.sha256(data).hexdigest() != sha256.lower():
        raise PackageRefused(f"{file_name}: its SHA-256 differs from the one the server announced")
    target = _versions(state_dir) / version
    partial = target.with_name(f".{version}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_members(archive)
            archive.extractall(partial)
    except zipfile.BadZipFile as error:
        raise PackageRefused(f"{file_name}: {error}") from None
    if not (partial / "openassist" / "__init__.py").is_file():
        shutil.rmtree(partial, ignore_errors=True)
        raise PackageRefused(f"{file_name} holds no openassist package")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    running = installed(state_dir)
    start_guard.remember_previous(state_dir, running[0] if running else "")
    _write_current(state_dir, version)
    return target


def _check_members(archive: zipfile.ZipFile) -> None:
    for member in archive.infolist():
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts:
            raise PackageRefused(f"the package names a path outside itself: {member.filename}")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise PackageRefused(f"the package holds a symbolic link: {member.filename}")


def _write_current(state_dir: Path, version: str) -> None:
    current = _versions(state_dir) / "current"
    temporary = current.with_suffix(".tmp")
    with open(temporary, "w") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(current)


def installed(state_dir: Path) -> tuple[str, Path] | None:
    """The version ``versions/current`` names and its directory, when both are there."""
    try:
        version = (_versions(state_dir) / "current").read_text().strip()
    except OSError:
        return None
    directory = _versions(state_dir) / version
    if not version or not (directory / "openassist" / "__init__.py").is_file():
        return None
    return version, directory


def exec_into(version: str, directory: Path, argv: list[str]) -> None:
    """Replace this process by the agent from ``directory`` (does not return)."""
    env = dict(os.environ)  # the new version starts in this one's environment, as it is
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(directory), env.get("PYTHONPATH")]))
    env[BOOTSTRAPPED_ENV] = version
    log.info("starting agent %s from %s", version, directory)
    start_guard.note_start(directory.parent.parent, version)  # <state>/versions/<version>
    # ``python -m`` puts the working directory first on sys.path: make it the version's own.
    os.chdir(directory)
    command = [sys.executable, "-m", "openassist.cli.main", *argv]
    os.execve(sys.executable, command, env)  # noqa: S606 (our own interpreter, fixed argv)


def start_installed(state_dir: Path, argv: list[str], bootstrapped: str) -> None:
    """At start: when another version is installed for this agent, run that one instead
    (``bootstrapped``: the settings' OPENASSIST_AGENT_BOOTSTRAPPED)."""
    found = installed(state_dir)
    if found is None or found[0] == __version__:
        return
    if start_guard.crash_looping(state_dir, found[0]):
        start_guard.fall_back(state_dir, found[0])
        found = installed(state_dir)
        if found is None or found[0] == __version__:
            return
    if bootstrapped:
        # Re-executed already and still not the installed code: run what we are, say why.
        log.error("installed agent %s did not load; running %s", found[0], __version__)
        return
    exec_into(found[0], found[1], argv)
