"""Custom ``{{name}}`` parameters: names in a command, the values a task must give, and the
content the agent receives (API.md 3.2), and the parameter store references ``{{oos:name}}`` /
``{{oos-secret:name}}`` (3.4), which the server fills when it hands the task out. Built-in
``{{ACS::...}}`` placeholders are left for the agent, as the official protocol does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from openassist.errors import ApiError

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_CUSTOM_NAME = re.compile(r"[A-Za-z0-9_-]+")
_NOT_CUSTOM = ("acs::", "oos:", "oos-secret:")
MAX_CUSTOM_PARAMETERS = 20
# The agent's matcher: whitespace tolerated inside the braces and around the colon.
_STORE_REFERENCE = re.compile(r"\{\{\s*(oos|oos-secret)\s*:\s*([A-Za-z0-9_.-]+)\s*\}\}")


@dataclass(frozen=True)
class StoreReference:
    secret: bool
    name: str

    @property
    def placeholder(self) -> str:
        return f"{{{{{'oos-secret' if self.secret else 'oos'}:{self.name}}}}}"


def parameter_names(content: bytes) -> list[str]:
    """The custom parameter names in ``content``, in order of first use (case-insensitive
    duplicates folded). Raises ApiError with the CmdParam codes of API.md 3.2."""
    names: dict[str, str] = {}
    for match in _PLACEHOLDER.finditer(content.decode("utf-8", "replace")):
        name = match.group(1)
        if name.lower().replace(" ", "").startswith(_NOT_CUSTOM):
            continue
        if not name:
            raise ApiError("CmdParam.EmptyKey", "A {{}} placeholder has no parameter name.")
        if len(name.encode()) > 64:
            raise ApiError(
                "CmdParamName.ExceedLimit", f"Parameter name {name[:20]}... is over 64 bytes.", 403
            )
        if not _CUSTOM_NAME.fullmatch(name):
            raise ApiError(
                "CmdParam.InvalidParamName",
                f"Parameter name {name!r} may contain only letters, digits, - and _.",
            )
        names.setdefault(name.lower(), name)
    if len(names) > MAX_CUSTOM_PARAMETERS:
        raise ApiError(
            "CmdParamCount.ExceedLimit",
            f"A command may define at most {MAX_CUSTOM_PARAMETERS} parameters; "
            f"it has {len(names)}.",
            403,
        )
    return list(names.values())


def check_values(content: bytes, enabled: bool, values: Mapping[str, str]) -> None:
    """The task's ``Parameters`` must name exactly the command's parameters (values may be
    empty). Raises ApiError Parameter.Disabled / Parameter.NotMatched / Parameter.MissingValue."""
    if not enabled:
        if values:
            raise ApiError(
                "Parameter.Disabled",
                "Parameters were given but the command does not enable parameters; set "
                "EnableParameter=true.",
            )
        return
    defined = {name.lower() for name in parameter_names(content)}
    given = {name.lower() for name in values}
    unknown = sorted(given - defined)
    if unknown:
        raise ApiError(
            "Parameter.NotMatched",
            f"The command defines no parameter {unknown[0]!r}; it defines "
            f"{', '.join(sorted(defined)) or 'none'}.",
            403,
        )
    missing = sorted(defined - given)
    if missing:
        raise ApiError(
            "Parameter.MissingValue",
            f"Give a value for the parameter {missing[0]!r} (an empty string is allowed).",
        )


def substitute(content: bytes, values: Mapping[str, str]) -> bytes:
    """``content`` with each custom placeholder replaced by its value (names case-insensitive)."""
    lowered = {name.lower(): value for name, value in values.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return lowered.get(name.lower(), match.group(0))

    return _PLACEHOLDER.sub(replace, content.decode("utf-8", "surrogateescape")).encode(
        "utf-8", "surrogateescape"
    )


def store_references(content: bytes) -> list[StoreReference]:
    """The parameter store references in ``content``, each once, in order of first use."""
    text = content.decode("utf-8", "surrogateescape")
    found = (
        StoreReference(m.group(1) == "oos-secret", m.group(2))
        for m in _STORE_REFERENCE.finditer(text)
    )
    return list(dict.fromkeys(found))


def substitute_store(content: bytes, values: Mapping[StoreReference, str]) -> bytes:
    """``content`` with each parameter store reference replaced by its value."""

    def replace(match: re.Match[str]) -> str:
        reference = StoreReference(match.group(1) == "oos-secret", match.group(2))
        return values.get(reference, match.group(0))

    text = content.decode("utf-8", "surrogateescape")
    return _STORE_REFERENCE.sub(replace, text).encode("utf-8", "surrogateescape")
