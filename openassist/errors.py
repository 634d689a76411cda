"""The exception tree, split by who must act.

    OpenAssistError
    ├── ApiError             answered to an API or console caller: code, message, HTTP status
    │   └── DomainError      raised by the service from an entry of ``openassist.catalog.api``
    │       ├── InvalidParameter   fix the value of a parameter
    │       ├── NotFound           the request names something that does not exist here
    │       ├── Conflict           the state of what it names refuses the request
    │       ├── LimitExceeded      a count or a size is over its limit
    │       ├── Forbidden          not supported or not allowed here
    │       ├── Unauthenticated    signature, access key, timestamp or nonce
    │       ├── Throttled          too many requests for the access key
    │       ├── DryRunPassed       DryRun=true and every check passed
    │       └── Internal           the server failed; nothing for the caller to fix
    └── ConfigurationError   the server's settings are invalid (at start-up)

API errors take their code, status and message from the catalog (``openassist.catalog.api``
says how to add one); per-instance failures use the per-instance catalog (``openassist.catalog``).
"""

from __future__ import annotations

from typing import ClassVar

from openassist.catalog.api.model import ApiErrorEntry, ErrorKind


class OpenAssistError(Exception):
    """Root of every error OpenAssist raises on purpose."""


class ApiError(OpenAssistError):
    """An error answered on the RPC API (and the console) with its code and HTTP status.

    What the renderers read; raise a ``DomainError`` subclass, which fills it from the catalog.
    """

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class DomainError(ApiError):
    """A failure of the kind its class names, described by a catalog entry and its fields."""

    kind: ClassVar[ErrorKind]
    _by_kind: ClassVar[dict[ErrorKind, type[DomainError]]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if DomainError in cls.__bases__:  # the class of a kind, not a refinement of one
            DomainError._by_kind[cls.kind] = cls

    def __init__(self, entry: ApiErrorEntry, /, **fields: object) -> None:
        if entry.kind is not self.kind:
            raise TypeError(f"{entry.code} is {entry.kind}, not {self.kind}: raise it as such")
        code, message, parameter = entry.render(fields)
        super().__init__(code, message, entry.http_status)
        self.entry = entry
        self.fields = fields
        self.parameter = parameter

    @staticmethod
    def of(entry: ApiErrorEntry, /, **fields: object) -> DomainError:
        """The error of ``entry``'s kind, for code that is handed an entry to raise."""
        return DomainError._by_kind[entry.kind](entry, **fields)


class InvalidParameter(DomainError):
    kind = ErrorKind.INVALID_PARAMETER


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND


class Conflict(DomainError):
    kind = ErrorKind.CONFLICT


class LimitExceeded(DomainError):
    kind = ErrorKind.LIMIT_EXCEEDED


class Forbidden(DomainError):
    kind = ErrorKind.FORBIDDEN


class Unauthenticated(DomainError):
    kind = ErrorKind.UNAUTHENTICATED


class Throttled(DomainError):
    kind = ErrorKind.THROTTLED


class DryRunPassed(DomainError):
    kind = ErrorKind.DRY_RUN


class Internal(DomainError):
    kind = ErrorKind.INTERNAL


class ConfigurationError(OpenAssistError):
    """The settings are invalid: unknown key, bad value, missing optional dependency."""
