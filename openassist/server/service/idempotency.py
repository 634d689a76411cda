"""ClientToken idempotency: the same token with the same parameters returns the first result.

Known limit: the token's record and the action's own writes are two transactions; if the server
dies between them, the token stays "processing" and a retry with it gets IdempotentProcessing
(never a second execution). A new token runs the request again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from openassist.errors import ApiError
from openassist.server.service.context import ServiceContext
from openassist.server.store import client_tokens

MAX_TOKEN_LENGTH = 64
# Envelope parameters that differ between retries of one logical request.
_NOT_BUSINESS = frozenset(
    {
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "AccessKeyId",
        "Format",
        "Version",
        "Action",
        "SecurityToken",
        "ClientToken",
        "OwnerId",
        "OwnerAccount",
        "ResourceOwnerId",
        "ResourceOwnerAccount",
    }
)


def fingerprint(params: Mapping[str, str]) -> str:
    business = sorted((k, v) for k, v in params.items() if k not in _NOT_BUSINESS)
    return hashlib.sha256(json.dumps(business, ensure_ascii=False).encode()).hexdigest()


def check_token(token: str) -> None:
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not token.isprintable():
        raise ApiError(
            "InvalidClientToken.Malformed",
            f"ClientToken must be at most {MAX_TOKEN_LENGTH} printable ASCII characters.",
        )


class IdempotencyService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def run(
        self,
        access_key_id: str,
        action: str,
        token: str,
        params: Mapping[str, str],
        handler: Callable[[], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        check_token(token)
        mark = fingerprint(params)
        now = self._ctx.clock.now_ms()
        db = self._ctx.db
        record = await db.write(
            lambda conn: client_tokens.claim(conn, access_key_id, action, token, mark, now)
        )
        if record is not None:
            if record.fingerprint != mark:
                raise ApiError(
                    "IdempotentParameterMismatch",
                    "The request uses the same ClientToken as a previous, but non-identical "
                    "request; use a new ClientToken for a different request.",
                )
            if record.response == client_tokens.PROCESSING:
                raise ApiError(
                    "IdempotentProcessing",
                    "The previous idempotent request(s) is still processing.",
                    403,
                )
            loaded: dict[str, Any] = json.loads(record.response)
            return loaded
        try:
            body = await handler()
        except BaseException:
            await db.write(lambda conn: client_tokens.release(conn, access_key_id, action, token))
            raise
        text = json.dumps(body, ensure_ascii=False)
        await db.write(
            lambda conn: client_tokens.complete(conn, access_key_id, action, token, text)
        )
        return body
