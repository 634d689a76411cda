"""Custom ``{{name}}`` parameters: names in a command, the values a task must give, and the
content the agent receives (API.md 3.2), and the parameter store references ``{{oos:name}}`` /
``{{oos-secret:name}}`` (3.4), which the server fills when it hands the task out. Built-in
``{{ACS::...}}`` placeholders are left for the agent, as the official protocol does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from openassist.catalog import api
from openassist.errors import InvalidParameter, LimitExceeded

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
    duplicates folded). Raises InvalidParameter or LimitExceeded with the CmdParam codes of
    API.md 3.2."""
    names: dict[str, str] = {}
    for match in _PLACEHOLDER.finditer(content.decode("utf-8", "replace")):
        name = match.group(1)
        if name.lower().replace(" ", "").startswith(_NOT_CUSTOM):
            continue
        if not name:
            raise InvalidParameter(api.PLACEHOLDER_EMPTY)
        if len(name.encode()) > 64:
            raise LimitExceeded(api.PLACEHOLDER_NAME_TOO_LONG, name=name[:20])
        if not _CUSTOM_NAME.fullmatch(name):
            raise InvalidParameter(api.PLACEHOLDER_NAME_INVALID, name=name)
        names.setdefault(name.lower(), name)
    if len(names) > MAX_CUSTOM_PARAMETERS:
        raise LimitExceeded(
            api.PLACEHOLDERS_TOO_MANY, limit=MAX_CUSTOM_PARAMETERS, count=len(names)
        )
    return list(names.values())


def check_values(content: bytes, enabled: bool, values: Mapping[str, str]) -> None:
    """The task's ``Parameters`` must name exactly the command's parameters (values may be
    empty). Raises InvalidParameter Parameter.Disabled / Parameter.NotMatched /
    Parameter.MissingValue; LimitExceeded when the command defines too many."""
    if not enabled:
        if values:
            raise InvalidParameter(api.PARAMETERS_DISABLED)
        return
    defined = {name.lower() for name in parameter_names(content)}
    given = {name.lower() for name in values}
    unknown = sorted(given - defined)
    if unknown:
        raise InvalidParameter(
            api.PARAMETER_NOT_DEFINED,
            name=unknown[0],
            defined=", ".join(sorted(defined)) or "none",
        )
    missing = sorted(defined - given)
    if missing:
        raise InvalidParameter(api.PARAMETER_VALUE_MISSING, name=missing[0])


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
