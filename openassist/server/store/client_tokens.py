"""ClientToken idempotency records (API.md 1.9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from openassist.server.store.schema.request_guards import client_tokens

# The response column of a token an older release claimed before running its action; one
# whose action committed without its answer stays so (they answer IdempotentProcessing).
PROCESSING = ""


@dataclass(frozen=True)
class TokenRecord:
    fingerprint: str
    response: str


def _key(access_key_id: str, action: str, token: str) -> tuple[Any, ...]:
    return (
        client_tokens.c.access_key_id == access_key_id,
        client_tokens.c.action == action,
        client_tokens.c.token == token,
    )


def find(conn: Connection, access_key_id: str, action: str, token: str) -> TokenRecord | None:
    query = select(client_tokens.c.fingerprint, client_tokens.c.response).where(
        *_key(access_key_id, action, token)
    )
    found = conn.execute(query).first()
    return None if found is None else TokenRecord(found.fingerprint, found.response)


def record(
    conn: Connection,
    access_key_id: str,
    action: str,
    token: str,
    fingerprint: str,
    response: str,
    now: int,
) -> None:
    """Record the token's answer; raises IntegrityError when the token is taken already."""
    conn.execute(
        client_tokens.insert().values(
            access_key_id=access_key_id,
            action=action,
            token=token,
            fingerprint=fingerprint,
            response=response,
            created_at=now,
        )
    )


def complete(conn: Connection, access_key_id: str, action: str, token: str, response: str) -> None:
    conn.execute(
        update(client_tokens)
        .where(
            client_tokens.c.access_key_id == access_key_id,
            client_tokens.c.action == action,
            client_tokens.c.token == token,
        )
        .values(response=response)
    )


def unsealed_answers(conn: Connection, sealed_prefix: str) -> list[tuple[str, str, str, str]]:
    """(access key id, action, token, answer) of finished answers kept in plain text by a release
    before answers were sealed."""
    query = select(
        client_tokens.c.access_key_id,
        client_tokens.c.action,
        client_tokens.c.token,
        client_tokens.c.response,
    ).where(
        client_tokens.c.response != PROCESSING,
        client_tokens.c.response.not_like(sealed_prefix + "%"),
    )
    return [(row[0], row[1], row[2], row[3]) for row in conn.execute(query)]
