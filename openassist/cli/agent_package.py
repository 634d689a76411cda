"""``openassist agent package``: the agent package that upgrades agents to this installation's
version. Put it in the server's agent package directory (``--out``, default
``.openassist/agent-packages``) and connected agents install it at their next update check,
within the upgrade windows of AgentUpgradeConfig."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

import openassist
from openassist.protocol.agent_versions import package_name


def build_package(out_dir: Path, version: str = openassist.__version__) -> Path:
    """Zip the installed ``openassist`` package as ``openassist-agent-<version>.zip``;
    ``version`` labels it (and its ``__version__``). Written atomically into ``out_dir``."""
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
    os.replace(temporary, target)
    return target


def run_package_command(args: argparse.Namespace) -> int:
    try:
        path = build_package(Path(args.out), args.version or openassist.__version__)
    except (ValueError, OSError) as error:
        print(f"openassist agent package: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0
