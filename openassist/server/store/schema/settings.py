"""Tables of server-wide documents and secrets: the OOS parameter store, Cloud Assistant settings
and the secrets every node shares."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    String,
    Table,
    Text,
)

from openassist.server.store.schema.base import metadata

# OOS parameter store: plain parameters ({{oos:name}}) and secret ones ({{oos-secret:name}},
# WindowsPasswordName), one namespace. A secret's value is sealed (service/secret_box.py).
parameters = Table(
    "parameters",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("type", String(16), nullable=False),  # String | StringList | Secret
    Column("value", Text, nullable=False),
    Column("description", String(200), nullable=False, default=""),
    Column("constraints", Text, nullable=False, default=""),
    Column("tags", Text, nullable=False, default="{}"),
    Column("resource_group_id", String(64), nullable=False, default=""),
    Column("version", Integer, nullable=False, default=1),
    Column("key_id", String(64), nullable=False, default=""),
    Column("created_by", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# DescribeCloudAssistantSettings / ModifyCloudAssistantSettings: one JSON document per type.
cloud_assistant_settings = Table(
    "cloud_assistant_settings",
    metadata,
    Column("setting_type", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Secrets every node of the server must hold alike, created once by the first node to start and
# kept sealed (service/secret_box.py: the parameter key, which every node already shares).
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),  # "console-session" signs console sessions
    Column("sealed", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
