"""The console's rendering of an API error, in one place: the same code and message the RPC
API answers. Forms show it in ``templates/error_box.html`` (the code, then the message); a
notice after a redirect carries ``line``; a raw view answers ``plain`` with the error's status.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse

from openassist.errors import ApiError
from openassist.server.console.web import SECURITY_HEADERS


def line(error: ApiError) -> str:
    """``Code: message``, for a one-line notice."""
    return f"{error.code}: {error.message}"


def plain(error: ApiError) -> PlainTextResponse:
    """The message as plain text with the error's HTTP status."""
    return PlainTextResponse(error.message, error.http_status, headers=SECURITY_HEADERS)
