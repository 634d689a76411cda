"""RAM users, custom policies and attachments; ActionTrail audit events; who ran each task

Revision ID: 0021
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ram_users",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("email", sa.String(128), nullable=False),
        sa.Column("mobile_phone", sa.String(32), nullable=False),
        sa.Column("comments", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("last_login_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ram_users"),
        sa.UniqueConstraint("name", name="uq_ram_users_name"),
    )
    op.create_table(
        "ram_policies",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.String(1024), nullable=False),
        sa.Column("default_version", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_ram_policies"),
    )
    op.create_table(
        "ram_policy_versions",
        sa.Column("policy_name", sa.String(128), nullable=False),
        sa.Column("version_id", sa.String(16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_name"],
            ["ram_policies.name"],
            name="fk_ram_policy_versions_policy_name_ram_policies",
        ),
        sa.PrimaryKeyConstraint("policy_name", "version_id", name="pk_ram_policy_versions"),
    )
    op.create_table(
        "ram_user_policies",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("policy_type", sa.String(16), nullable=False),
        sa.Column("policy_name", sa.String(128), nullable=False),
        sa.Column("attached_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["ram_users.id"], name="fk_ram_user_policies_user_id_ram_users"
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "policy_type", "policy_name", name="pk_ram_user_policies"
        ),
    )
    op.create_index(
        "ix_ram_user_policies_policy_name", "ram_user_policies", ["policy_name"], unique=False
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("event_name", sa.String(64), nullable=False),
        sa.Column("event_source", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("access_key_id", sa.String(64), nullable=False),
        sa.Column("source_ip", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(256), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("resource_name", sa.Text(), nullable=False),
        sa.Column("error_code", sa.String(128), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("request_parameters", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("event_id", name="uq_audit_events_event_id"),
    )
    op.create_index("ix_audit_events_event_time", "audit_events", ["event_time"], unique=False)
    with op.batch_alter_table("invocations") as batch:
        batch.add_column(sa.Column("invoked_by", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("invocations") as batch:
        batch.drop_column("invoked_by")
    op.drop_index("ix_audit_events_event_time", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_ram_user_policies_policy_name", table_name="ram_user_policies")
    op.drop_table("ram_user_policies")
    op.drop_table("ram_policy_versions")
    op.drop_table("ram_policies")
    op.drop_table("ram_users")
