"""the overdue filter by what the dunning round announced: an index that skips the open
invoices not yet due

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08

The overdue filter walked the open invoices newest first (ix_invoices_open_created),
passing every one not yet due to find a page of overdue ones: 1,700-2,000 at a million
invoices spread over time, but one per customer after a billing run that issues a month's
invoices at once (about 40 ms at 100,000 customers). The dunning round, hourly, records
each invoice it finds overdue (`overdue_announced_for`, the due date it saw pass).
`overdue_announced` says whether that is what is due now, computed by the database from
the two dates (a virtual column: nothing to fill, nothing to keep in step), and two
indexes put those invoices apart: the announced ones newest first, the others by when they
fall due, so the filter reads the announced ones from the newest and the few fallen due
since the round's last run by their due date, never the ones not yet due.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

ANNOUNCED = "CASE WHEN overdue_announced_for = next_due_date THEN 1 ELSE 0 END"
INDEXES = {
    "ix_invoices_announced_created": [
        "status",
        "void",
        "overdue_announced",
        "created_at",
        "id",
        "next_due_date",
        "total",
        "amount_paid",
    ],
    "ix_invoices_announced_due": [
        "status",
        "void",
        "overdue_announced",
        "next_due_date",
        "created_at",
        "id",
        "total",
        "amount_paid",
    ],
}


def upgrade() -> None:
    # A virtual column may be added in place on both databases (SQLite's ALTER TABLE adds
    # no stored one); MariaDB refuses NOT NULL on it.
    op.add_column(
        "invoices",
        sa.Column("overdue_announced", sa.Boolean(), sa.Computed(ANNOUNCED), nullable=True),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "invoices", columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="invoices")
    # Batch mode: SQLite copies the table (keeping its ids never reused, migration 0011).
    with op.batch_alter_table("invoices", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("overdue_announced")
