"""the secret that signs invoice links

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25

The email's "view or download" link opens without a token: it is signed with a secret
generated here once per database (or set in links.secret), so rotating it revokes every
link given out.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployment") as batch:
        batch.add_column(sa.Column("link_secret", sa.String(length=64), nullable=True))
    deployment = sa.table("deployment", sa.column("link_secret", sa.String))
    op.execute(deployment.update().values(link_secret=secrets.token_urlsafe(32)))


def downgrade() -> None:
    with op.batch_alter_table("deployment") as batch:
        batch.drop_column("link_secret")
