"""dunning: when an invoice falls due, reminders sent once, late fees booked once

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

`receivable_totals` sums what the open invoices still ask, per customer and that day.
`invoices.next_due_date` is when what is due next falls due (the due date, or with a
payment plan the first installment not paid yet), indexed with the status, so overdue
invoices are a range scan; `overdue_announced_for` remembers the date whose passing was
announced. `reminders` and `late_fees` are claims, unique per invoice, due date and step
or month, so concurrent rounds send and book each once. Customers may opt out of
reminders (`reminders_enabled`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.model.columns import Hundredths, UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
KEEP_IDS = {"table_kwargs": {"sqlite_autoincrement": True}}
COLLECT = ["status", "void", "next_due_date", "total", "amount_paid", "customer_id"]


def upgrade() -> None:
    with op.batch_alter_table("invoices", **KEEP_IDS) as batch:
        batch.add_column(sa.Column("next_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("overdue_announced_for", sa.Date(), nullable=True))
    op.execute(
        "UPDATE invoices SET next_due_date = COALESCE("
        "(SELECT MIN(i.due_date) FROM installments i"
        " WHERE i.invoice_id = invoices.id AND i.amount_paid < i.amount), due_date)"
    )
    with op.batch_alter_table("invoices", **KEEP_IDS) as batch:
        batch.alter_column("next_due_date", existing_type=sa.Date(), nullable=False)
    op.create_index("ix_invoices_collect", "invoices", COLLECT)
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("reminders_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("customers") as batch:
        batch.alter_column(
            "reminders_enabled",
            existing_type=sa.Boolean(),
            existing_nullable=False,
            server_default=None,
        )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("falls_due", sa.Date(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_reminders_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint(
            "invoice_id", "falls_due", "step", name=op.f("uq_reminders_invoice_id_falls_due_step")
        ),
        **MYSQL_TABLE,
    )
    op.create_table(
        "late_fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("falls_due", sa.Date(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("amount", Hundredths(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("booked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_late_fees_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_late_fees_transaction_id_transactions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_late_fees")),
        sa.UniqueConstraint(
            "invoice_id", "falls_due", "month", name=op.f("uq_late_fees_invoice_id_falls_due_month")
        ),
        **MYSQL_TABLE,
    )

    op.create_table(
        "receivable_totals",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("falls_due", sa.Date(), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("due", Hundredths(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "falls_due", name=op.f("pk_receivable_totals")),
        **MYSQL_TABLE,
    )
    for customer in ("customer_id", "0"):
        op.execute(
            "INSERT INTO receivable_totals (customer_id, falls_due, invoice_count, due)"
            f" SELECT {customer}, next_due_date, COUNT(*), SUM(total - amount_paid)"
            " FROM invoices WHERE status = 'UNPAID' AND void = false AND total > 0"
            f" AND total > amount_paid GROUP BY {'customer_id, ' if customer != '0' else ''}next_due_date"
        )


def downgrade() -> None:
    op.drop_table("receivable_totals")
    op.drop_table("late_fees")
    op.drop_table("reminders")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("reminders_enabled")
    op.drop_index("ix_invoices_collect", table_name="invoices")
    with op.batch_alter_table("invoices", **KEEP_IDS) as batch:
        batch.drop_column("overdue_announced_for")
        batch.drop_column("next_due_date")
