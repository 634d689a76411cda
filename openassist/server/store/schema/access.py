"""Tables of who may call: access keys, and RAM users, policies and attachments."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from openassist.server.store.schema.base import metadata

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    # Sealed with the server's key file (service.secret_box): a database copy cannot sign.
    Column("sealed_secret", Text, nullable=False),
    Column("owner", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", BigInteger, nullable=False),
)

# RAM (2015-05-01): users, custom policies and their versions, attachments. System policies
# live in code (server/service/system_policies.py) and are named here by type "System".
ram_users = Table(
    "ram_users",
    metadata,
    Column("id", String(32), primary_key=True),  # UserId: never reused, survives a rename
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False, default=""),
    Column("email", String(128), nullable=False, default=""),
    Column("mobile_phone", String(32), nullable=False, default=""),
    Column("comments", String(128), nullable=False, default=""),
    # scrypt hash of the console password (CreateLoginProfile); empty: no console sign-in.
    Column("password_hash", Text, nullable=False, default="", server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("last_login_at", BigInteger, nullable=True),
)

ram_policies = Table(
    "ram_policies",
    metadata,
    Column("name", String(128), primary_key=True),  # custom policies only
    Column("description", String(1024), nullable=False, default=""),
    Column("default_version", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

ram_policy_versions = Table(
    "ram_policy_versions",
    metadata,
    Column("policy_name", String(128), ForeignKey("ram_policies.name"), primary_key=True),
    Column("version_id", String(16), primary_key=True),  # v1, v2 ...
    Column("document", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

ram_user_policies = Table(
    "ram_user_policies",
    metadata,
    Column("user_id", String(32), ForeignKey("ram_users.id"), primary_key=True),
    Column("policy_type", String(16), primary_key=True),  # System | Custom
    Column("policy_name", String(128), primary_key=True),
    Column("attached_at", BigInteger, nullable=False),
    Index("ix_ram_user_policies_policy_name", "policy_name"),
)
