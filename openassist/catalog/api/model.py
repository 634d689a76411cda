"""The shape of an API error entry and the kinds of failure the service layer raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from string import Formatter


class ErrorKind(StrEnum):
    """What went wrong, as the service layer says it; each kind has one exception class in
    ``openassist.errors``."""

    INVALID_PARAMETER = "invalid_parameter"  # a value is missing, malformed or inconsistent
    NOT_FOUND = "not_found"  # the request names something that does not exist here
    CONFLICT = "conflict"  # the thing exists but its state refuses the request
    LIMIT_EXCEEDED = "limit_exceeded"  # a count or size is over a documented limit
    FORBIDDEN = "forbidden"  # the request is well formed but not supported or not allowed
    UNAUTHENTICATED = "unauthenticated"  # the signature, key, timestamp or nonce is wrong
    THROTTLED = "throttled"  # too many requests for this access key
    DRY_RUN = "dry_run"  # DryRun=true: every check passed and nothing was done
    INTERNAL = "internal"  # the server failed; the caller cannot fix it


def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _text, name, _spec, _conv in Formatter().parse(template) if name)


@dataclass(frozen=True, slots=True)
class ApiErrorEntry:
    """One error the API (and the console) can answer.

    ``code`` and ``template`` are ``str.format`` templates over the named fields the raising
    site gives; a code with a field (``MissingParameter.{parameter}``) is a family of codes.
    ``parameter`` names the request parameter the error is about ("" when it is about none),
    and may itself be a field (``{parameter}``).
    """

    code: str
    kind: ErrorKind
    http_status: int
    template: str
    parameter: str = ""

    @property
    def fields(self) -> frozenset[str]:
        """The names the raising site must give."""
        return _fields(self.code) | _fields(self.template) | _fields(self.parameter)

    def render(self, fields: Mapping[str, object]) -> tuple[str, str, str]:
        """(code, message, parameter) with ``fields`` filled in; KeyError for a missing field."""
        return (
            self.code.format_map(fields),
            self.template.format_map(fields),
            self.parameter.format_map(fields),
        )
