"""ClientToken idempotency: the same token with the same parameters returns the first result.

The action runs inside one unit of work (``Database.unit``) whose last write is the token's
record with its answer: the record and the action's rows commit together or not at all, so a
crash or a failed write between them can neither leave the token "processing" for ever nor let a
retry run the work twice. Two requests racing with one token both run, but only the first to
commit keeps its rows: the other's record collides on the token's key, its unit rolls back, and
it answers with the first one's answer. (Rows a release before this one left "processing" still
answer IdempotentProcessing.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openassist.catalog import api
from openassist.errors import Conflict, InvalidParameter
from openassist.server.service.context import ServiceContext
from openassist.server.service.secret_box import SEALED_PREFIX, SecretBox
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
        raise InvalidParameter(api.CLIENT_TOKEN_MALFORMED, limit=MAX_TOKEN_LENGTH)


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
        db = self._ctx.db

        def find(conn: Connection) -> client_tokens.TokenRecord | None:
            return client_tokens.find(conn, access_key_id, action, token)

        record = await db.read(find)
        if record is None:
            try:
                async with db.unit():
                    body = await handler()
                    text = self._box.seal(sealing, json.dumps(body, ensure_ascii=False))
                    now = self._ctx.clock.now_ms()
                    await db.write(
                        lambda conn: client_tokens.record(
                            conn, access_key_id, action, token, mark, text, now
                        )
                    )
                return body
            except IntegrityError:
                record = await db.read(find)  # another request with the token committed first
                if record is None:
                    raise
        return self._answer_of(record, mark, sealing)

    def _answer_of(
        self, record: client_tokens.TokenRecord, mark: str, sealing: str
    ) -> dict[str, Any]:
        if record.fingerprint != mark:
            raise Conflict(api.IDEMPOTENT_PARAMETER_MISMATCH)
        if record.response == client_tokens.PROCESSING:
            raise Conflict(api.IDEMPOTENT_PROCESSING)
        loaded: dict[str, Any] = json.loads(self._box.open(sealing, record.response))
        return loaded
