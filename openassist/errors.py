"""The exception tree, split by who must act.

    OpenAssistError
    ├── CallerError          the API caller sent something wrong; fix the request
    │   └── ApiError         carries the documented API code and HTTP status
    ├── FleetError           an instance or its agent is not in a state to do the work
    └── InfrastructureError  the server's own parts (store, bus, TLS files) failed

Every error that reaches a user carries a code; API errors use the codes of API.md section 1.6
and section 5, per-instance failures use the catalog (``openassist.catalog``).
"""

from __future__ import annotations


class OpenAssistError(Exception):
    """Root of every error OpenAssist raises on purpose."""


class CallerError(OpenAssistError):
    """The caller must change the request."""


class ApiError(CallerError):
    """An error answered on the RPC API with its documented code and HTTP status."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class FleetError(OpenAssistError):
    """An instance or its agent cannot do the work; ``code`` is a catalog code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class InfrastructureError(OpenAssistError):
    """A part of the server itself failed (database, bus, certificate files)."""


class ConfigurationError(InfrastructureError):
    """The settings are invalid: unknown key, bad value, missing optional dependency."""
