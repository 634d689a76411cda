"""Request bodies read against a limit: refused from Content-Length before any byte is read,
counted while streaming otherwise, so no handler ever buffers more than its limit (issue 13.4).
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request


class BodyRefused(Exception):
    """The body is not taken; ``status`` is 413 (too large) or 400 (bad length, cut short)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


async def read_body(request: Request, limit: int, setting: str) -> bytes:
    """The whole body, at most ``limit`` bytes (``setting`` names the limit in the message)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BodyRefused("The Content-Length header is not a number.", 400)
        if int(declared) > limit:
            raise _too_large(limit, setting)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit, setting)
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyRefused("The request body was cut short.", 400) from None
    return b"".join(chunks)


class BodyTooLarge(BodyRefused):
    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(
            f"The request body is larger than {limit} bytes, this endpoint's limit ({setting}).",
            413,
        )
        self.limit = limit
        self.setting = setting


def _too_large(limit: int, setting: str) -> BodyTooLarge:
    return BodyTooLarge(limit, setting)
