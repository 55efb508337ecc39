"""search titles through the title index instead of FULLTEXT

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

InnoDB's FULLTEXT index cost grows with how many invoices hold a word (300 ms for a common
one at a million invoices); titles are now found through a loose scan of the ordinary
title index (see domain/queries/invoice_search.py), so the FULLTEXT index only slowed writes.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ix_invoices_title_fulltext"


def upgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.drop_index(INDEX, table_name="invoices")


def downgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.create_index(INDEX, "invoices", ["title"], mysql_prefix="FULLTEXT")
