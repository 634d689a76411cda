"""Tables the front ends share across nodes to judge requests: ClientToken answers, replay marks,
rate buckets, revoked console sessions and console sign-in failures."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from openassist.server.store.schema.base import metadata

client_tokens = Table(
    "client_tokens",
    metadata,
    Column("access_key_id", String(64), primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("token", String(64), primary_key=True),
    # SHA-256 of the request's business parameters: same token + other parameters is refused.
    Column("fingerprint", String(64), nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Signature nonces of API requests and request ids of agent requests, kept while a replay of the
# request would still be inside the accepted timestamp window: in the store, so that neither a
# restart nor another node accepts the same signed request twice. ``digest`` is SHA-256 of the
# scope (the key or the instance) and the value, so a long nonce costs no more than a short one.
replay_marks = Table(
    "replay_marks",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_replay_marks_expires_at", "expires_at"),
)

# The API's token bucket per access key (thousandths of a request), shared by every node; used
# when the store is PostgreSQL (one SQLite node keeps its buckets in memory).
api_rate_buckets = Table(
    "api_rate_buckets",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("millitokens", BigInteger, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)

# Console sessions ended by sign-out before they expire (sessions are signed cookies).
console_revocations = Table(
    "console_revocations",
    metadata,
    Column("sid", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_console_revocations_expires_at", "expires_at"),
)

# Failed console sign-ins per user, address or device, shared by every node (several nodes).
console_sign_in_failures = Table(
    "console_sign_in_failures",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=False),
    Index("ix_console_sign_in_failures_last_at", "last_at"),
)
