"""fulltext search on invoice titles (MariaDB/MySQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Not in the models: SQLite has no FULLTEXT indexes (it searches titles with LIKE).
INDEX = "ix_invoices_title_fulltext"


def upgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.create_index(INDEX, "invoices", ["title"], mysql_prefix="FULLTEXT")


def downgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.drop_index(INDEX, table_name="invoices")
