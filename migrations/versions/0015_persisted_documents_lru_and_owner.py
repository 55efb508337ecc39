"""persisted documents: who registered each, and when it was last used

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

The store of automatic persisted queries becomes a least-recently-used cache with a quota
per token: `token_id` counts a token's registrations, `used_at` picks what goes first when
the store is full (documents registered before this have none, and go first).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.model.columns import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("persisted_documents") as batch:
        batch.add_column(sa.Column("token_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("used_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_persisted_documents_token_id", ["token_id"])
        batch.create_index("ix_persisted_documents_used_at", ["used_at"])


def downgrade() -> None:
    with op.batch_alter_table("persisted_documents") as batch:
        batch.drop_index("ix_persisted_documents_used_at")
        batch.drop_index("ix_persisted_documents_token_id")
        batch.drop_column("used_at")
        batch.drop_column("token_id")
