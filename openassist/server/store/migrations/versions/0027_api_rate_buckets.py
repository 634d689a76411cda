"""API rate buckets per access key, shared by every node of a PostgreSQL deployment

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_rate_buckets",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("millitokens", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_rate_buckets")),
    )


def downgrade() -> None:
    op.drop_table("api_rate_buckets")
