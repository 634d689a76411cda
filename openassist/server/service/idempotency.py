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

from sqlalchemy import Connection

from openassist.errors import ApiError
from openassist.server.service.context import ServiceContext
from openassist.server.service.secret_box import SEALED_PREFIX, SecretBox
from openassist.server.store import client_tokens
from openassist.server.store.db import without_riders

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


def _sealing_name(access_key_id: str, action: str, token: str) -> str:
    return f"client-token:{access_key_id}:{action}:{token}"


class IdempotencyService:
    """Answers are kept sealed: one may hold a secret shown once (CreateActivation's code)."""

    def __init__(self, context: ServiceContext, box: SecretBox) -> None:
        self._ctx = context
        self._box = box

    async def seal_plain_answers(self) -> int:
        """Seal the answers that releases before sealing kept in plain text; returns how many."""

        def seal(conn: Connection) -> int:
            plain = client_tokens.unsealed_answers(conn, SEALED_PREFIX)
            for key_id, action, token, answer in plain:
                sealed = self._box.seal(_sealing_name(key_id, action, token), answer)
                client_tokens.complete(conn, key_id, action, token, sealed)
            return len(plain)

        return await self._ctx.db.write(seal)

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
        sealing = _sealing_name(access_key_id, action, token)
        now = self._ctx.clock.now_ms()
        db = self._ctx.db
        with without_riders():  # bookkeeping: the change's audit event rides the change
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
            loaded: dict[str, Any] = json.loads(self._box.open(sealing, record.response))
            return loaded
        try:
            body = await handler()
        except BaseException:
            with without_riders():
                await db.write(
                    lambda conn: client_tokens.release(conn, access_key_id, action, token)
                )
            raise
        text = self._box.seal(sealing, json.dumps(body, ensure_ascii=False))
        with without_riders():
            await db.write(
                lambda conn: client_tokens.complete(conn, access_key_id, action, token, text)
            )
        return body
