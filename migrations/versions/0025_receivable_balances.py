"""receivable balances: what the open invoices still ask in all, per customer and currency

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

The overdue count (the list's overdue filter, the overdue card) summed the receivables
summary's rows of every past due day: 3,652 rows for all customers at ten years of history,
more every day (1.2 ms of the overdue filter's SQL at a million invoices).
`receivable_balances` holds their sum per customer (0 = all) and currency, kept with them
(store/receivable_totals.py); the overdue count is the balance less the few days not yet
due. Filled here from the receivables summary. Downgrading drops it.

Those days, in every currency at once, are read through `ix_receivable_totals_customer_due`:
the summary's key puts the currency before the day, so without it every day of the
customer's was read to find the few from today on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.model.columns import Thousandths

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    op.create_table(
        "receivable_balances",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("due", Thousandths(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "currency", name=op.f("pk_receivable_balances")),
        **MYSQL_TABLE,
    )
    op.create_index(
        "ix_receivable_totals_customer_due", "receivable_totals", ["customer_id", "falls_due"]
    )
    op.execute(
        "INSERT INTO receivable_balances (customer_id, currency, invoice_count, due)"
        " SELECT customer_id, currency, SUM(invoice_count), SUM(due) FROM receivable_totals"
        " GROUP BY customer_id, currency"
    )


def downgrade() -> None:
    op.drop_index("ix_receivable_totals_customer_due", table_name="receivable_totals")
    op.drop_table("receivable_balances")
