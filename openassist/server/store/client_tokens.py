"""ClientToken idempotency records (API.md 1.9)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from openassist.server.store.schema import client_tokens

PROCESSING = ""  # the response column while the first request is still running


@dataclass(frozen=True)
class TokenRecord:
    fingerprint: str
    response: str


def claim(
    conn: Connection, access_key_id: str, action: str, token: str, fingerprint: str, now: int
) -> TokenRecord | None:
    """Claim ``token`` for a new request; returns the existing record when it was taken."""
    key = (
        client_tokens.c.access_key_id == access_key_id,
        client_tokens.c.action == action,
        client_tokens.c.token == token,
    )
    row = conn.execute(select(client_tokens.c.fingerprint, client_tokens.c.response).where(*key))
    found = row.first()
    if found is not None:
        return TokenRecord(found.fingerprint, found.response)
    try:
        with conn.begin_nested():
            conn.execute(
                client_tokens.insert().values(
                    access_key_id=access_key_id,
                    action=action,
                    token=token,
                    fingerprint=fingerprint,
                    response=PROCESSING,
                    created_at=now,
                )
            )
    except IntegrityError:  # another node claimed it between our read and insert
        again = conn.execute(
            select(client_tokens.c.fingerprint, client_tokens.c.response).where(*key)
        ).one()
        return TokenRecord(again.fingerprint, again.response)
    return None


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


def release(conn: Connection, access_key_id: str, action: str, token: str) -> None:
    """Forget a claim whose request failed, so the caller may retry with the same token."""
    conn.execute(
        delete(client_tokens).where(
            client_tokens.c.access_key_id == access_key_id,
            client_tokens.c.action == action,
            client_tokens.c.token == token,
            client_tokens.c.response == PROCESSING,
        )
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
