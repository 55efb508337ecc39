"""persisted GraphQL documents (automatic persisted queries)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25

Clients that send a document's hash instead of its text (Apollo's PersistedQueryLink)
register the text once; every API process finds it here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.model.columns import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persisted_documents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_persisted_documents")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )


def downgrade() -> None:
    op.drop_table("persisted_documents")
