"""``openassist agent package``: the agent package that upgrades agents to this installation's
version. Put it in the server's agent package directory (``--out``, default
``.openassist/agent-packages``) and connected agents install it at their next update check,
within the upgrade windows of AgentUpgradeConfig."""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import openassist
from openassist.protocol.agent_versions import package_name
from openassist.protocol.package_signature import signature_name, signed_message


def build_package(
    out_dir: Path, version: str = openassist.__version__, key_file: Path | None = None
) -> Path:
    """Zip the installed ``openassist`` package as ``openassist-agent-<version>.zip``;
    ``version`` labels it (and its ``__version__``). Signed with ``key_file`` (default: the CA
    key of the server whose package directory ``out_dir`` is, ``<data-dir>/tls/ca.key``) when
    there is one; the signature is in place before the package, which appears atomically."""
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise ValueError(f"version {version!r} must be dotted numbers, e.g. 0.2.0")
    source = Path(openassist.__file__).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / package_name(version)
    fd, temporary = tempfile.mkstemp(dir=out_dir, prefix=".package-")
    with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            name = str(Path("openassist") / path.relative_to(source))
            data = path.read_bytes()
            if name == "openassist/__init__.py":
                data = re.sub(
                    rb'__version__ = "[^"]*"', f'__version__ = "{version}"'.encode(), data
                )
            zf.writestr(name, data)
    os.chmod(temporary, 0o644)
    key = key_file or default_key(out_dir)
    if key.is_file():
        sign_package(Path(temporary), target.name, key)
    os.replace(temporary, target)
    return target


def default_key(out_dir: Path) -> Path:
    """The signing key of the server whose agent package directory ``out_dir`` is."""
    return out_dir.parent / "tls" / "ca.key"


def sign_package(package: Path, file_name: str, key_file: Path) -> Path:
    """Write ``<file_name>.sig`` beside ``package``: the key's signature of its name and
    SHA-256 (``protocol.package_signature``)."""
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_file} is not the server's EC key")
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    signature = key.sign(signed_message(file_name, digest), ec.ECDSA(hashes.SHA256()))
    target = package.with_name(signature_name(file_name))
    fd, temporary = tempfile.mkstemp(dir=package.parent, prefix=".signature-")
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(signature).decode() + "\n")
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    return target


def run_package_command(args: argparse.Namespace) -> int:
    out = Path(args.out)
    key = Path(args.key) if args.key else default_key(out)
    if not key.is_file():
        print(
            f"openassist agent package: no signing key at {key}; agents refuse unsigned "
            "packages: give --key <data-dir>/tls/ca.key of the server that offers it",
            file=sys.stderr,
        )
        return 1
    try:
        path = build_package(out, args.version or openassist.__version__, key)
    except (ValueError, OSError) as error:
        print(f"openassist agent package: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0
