"""Built-in ``{{ACS::Name}}`` parameters and the Launcher's script-file placeholder.

The server sends what only it knows (RegionId, InstanceName); the agent adds InstanceId,
CommandId and InvokeId, as the official agent does. Resolved only when the task enables
parameters; an unknown name fails the task with InvalidSystemBuiltInParameter.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

_BUILT_IN = re.compile(r"\{\{\s*ACS\s*::\s*([A-Za-z0-9_]+)\s*\}\}")
_SCRIPT_FILE = re.compile(
    r"\{\{\s*ACS\s*::\s*ScriptFileName\s*(?:\|\s*Ext\(\s*[\"']?([.\w-]*)[\"']?\s*\))?\s*\}\}"
)


class UnknownBuiltIn(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"ACS::{name} is not a built-in parameter")
        self.name = name


def resolve_built_ins(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``{{ACS::Name}}`` replaced; raises UnknownBuiltIn."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise UnknownBuiltIn(name)
        return values[name]

    return _BUILT_IN.sub(replace, text)


def launcher_extension(launcher: str) -> str:
    """The script file's extension that the Launcher asks for (``Ext(".py")``), or ``.sh``."""
    match = _SCRIPT_FILE.search(launcher)
    if match and match.group(1):
        extension = match.group(1)
        return extension if extension.startswith(".") else "." + extension
    return ".sh"


def launcher_command(launcher: str, script_path: str) -> str:
    """The Launcher with its script-file placeholder replaced by the (quoted) path."""
    return _SCRIPT_FILE.sub(lambda _match: shlex.quote(script_path), launcher)
