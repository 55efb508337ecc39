"""title totals: how many invoices bear each title, for the search box's counts

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

A search's count read an index entry per matching invoice: a broad term ("mobile
services") at a million invoices matched 54 titles and 120,000 invoices (48 ms).
`invoice_title_totals` holds a row per distinct title and how many invoices bear it
(store/title_totals.py keeps it from now on); it is filled here from the invoices already
there (1M invoices: about a second on MariaDB). Downgrading drops it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    op.create_table(
        "invoice_title_totals",
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("title", name=op.f("pk_invoice_title_totals")),
        **MYSQL_TABLE,
    )
    op.execute(
        "INSERT INTO invoice_title_totals (title, invoice_count) "
        "SELECT title, count(*) FROM invoices GROUP BY title"
    )


def downgrade() -> None:
    op.drop_table("invoice_title_totals")
