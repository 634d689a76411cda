"""access-key secrets are kept sealed (the server seals the plain ones of older releases at start)

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_keys") as batch:
        batch.alter_column(
            "secret",
            new_column_name="sealed_secret",
            existing_type=sa.String(128),
            type_=sa.Text(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("access_keys") as batch:
        batch.alter_column(
            "sealed_secret",
            new_column_name="secret",
            existing_type=sa.Text(),
            type_=sa.String(128),
            existing_nullable=False,
        )
