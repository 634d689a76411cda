"""Tables of the fleet: activation codes and the instances they registered."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from openassist.server.store.schema.base import metadata

activations = Table(
    "activations",
    metadata,
    Column("id", String(64), primary_key=True),
    # Only a hash of the code is kept: the code is shown once, at creation.
    Column("code_sha256", String(64), nullable=False),
    Column("instance_name", String(64), nullable=False, default=""),
    Column("description", String(128), nullable=False, default=""),
    Column("instance_count", Integer, nullable=False),
    Column("registered_count", Integer, nullable=False, default=0),
    Column("deregistered_count", Integer, nullable=False, default=0),
    Column("ttl_hours", Integer, nullable=False),
    Column("ip_range", String(64), nullable=False, default=""),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    # "" when none; the instances it registers carry it (RunCommand's ResourceGroupId checks it).
    Column("resource_group_id", String(64), nullable=False, server_default=""),
)

instances = Table(
    "instances",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False, default=""),
    Column("hostname", String(255), nullable=False, default=""),
    Column("machine_id", String(64), nullable=False, default=""),
    Column("activation_id", String(64), ForeignKey("activations.id"), nullable=True),
    Column("os_type", String(32), nullable=False, default="Linux"),
    Column("os_version", String(255), nullable=False, default=""),
    Column("agent_version", String(64), nullable=False, default=""),
    Column("public_key", Text, nullable=False),
    Column("intranet_ip", String(64), nullable=False, default=""),
    Column("internet_ip", String(64), nullable=False, default=""),
    Column("registered_at", BigInteger, nullable=False),
    Column("last_heartbeat_at", BigInteger, nullable=True),
    Column("boot_id", String(64), nullable=False, default=""),
    # "" while heartbeating; "stopped" / "shutdown" once the agent said goodbye (service
    # stopped / operating system shutting down) until its next heartbeat.
    Column("agent_state", String(16), nullable=False, default="", server_default=""),
    # Last time a correctly signed request of this instance was refused by the access rules.
    Column("access_denied_at", BigInteger, nullable=True),
    Column("agent_capabilities", String(512), nullable=False, default="", server_default=""),
    Column("running_tasks", Integer, nullable=True),
    # Our agent's own duties failing again and again ("fetch: OSError: ..."), "" when none.
    Column("agent_faults", String(512), nullable=False, default="", server_default=""),
    Column("registration_state", String(16), nullable=False, default="registered"),
    Column("last_invoked_at", BigInteger, nullable=True),
    Column("invocation_count", Integer, nullable=False, default=0),
    Column("resource_group_id", String(64), nullable=False, server_default=""),
)
