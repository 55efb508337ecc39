"""payments and installments: an invoice paid in parts, and payment plans

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

An invoice may now be paid in several payments (`payments`, one row each, with what of it
was refunded); `invoices.amount_paid` is their sum and the invoice is PAID once it reaches
the total. A payment plan splits what is due into `installments` that payments fill in
order. `invoice_totals.paid` lets the unpaid stats card show what is still due.

Every invoice settled before this migration was settled by one payment of its total: that
payment is written from the invoice's own columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.model.columns import Hundredths, UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
KEEP_IDS = {"table_kwargs": {"sqlite_autoincrement": True}}
METHODS = ("STRIPE", "CASH", "REFUND", "POS", "BANK_TRANSFER")


def _money(name: str) -> sa.Column[object]:
    return sa.Column(name, Hundredths(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", Hundredths(), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                *METHODS,
                name="paymentmethodkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("paid_at", UTCDateTime(), nullable=False),
        sa.Column("refunded_amount", Hundredths(), nullable=False),
        sa.Column("refund_reference", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sqlite_autoincrement=True,
        **MYSQL_TABLE,
    )
    op.create_index("ix_payments_invoice_id", "payments", ["invoice_id", "id"])
    op.create_index("ix_payments_reference", "payments", ["reference"])
    op.create_table(
        "installments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", Hundredths(), nullable=False),
        sa.Column("amount_paid", Hundredths(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_installments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installments")),
        sa.UniqueConstraint(
            "invoice_id", "position", name=op.f("uq_installments_invoice_id_position")
        ),
        **MYSQL_TABLE,
    )
    with op.batch_alter_table("invoices", **KEEP_IDS) as batch:
        batch.add_column(_money("amount_paid"))
    with op.batch_alter_table("invoice_totals") as batch:
        batch.add_column(_money("paid"))
    with op.batch_alter_table("payment_attempts", **KEEP_IDS) as batch:
        batch.add_column(sa.Column("payment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_payment_attempts_payment_id_payments"), "payments", ["payment_id"], ["id"]
        )
    settled = "status IN ('PAID', 'REFUNDED')"
    op.execute(f"UPDATE invoices SET amount_paid = total WHERE {settled}")
    op.execute(f"UPDATE invoice_totals SET paid = total WHERE {settled}")
    op.execute(
        "INSERT INTO payments (invoice_id, amount, method, reference, paid_at,"
        " refunded_amount, refund_reference)"
        " SELECT id, total, COALESCE(payment_method, 'CASH'), payment_reference,"
        " COALESCE(paid_at, created_at), refunded_amount, refund_reference"
        f" FROM invoices WHERE {settled} AND total <> 0 ORDER BY id"
    )
    # A refund in flight now names the payment it gives back of (there was one per invoice).
    op.execute(
        "UPDATE payment_attempts SET payment_id ="
        " (SELECT MIN(p.id) FROM payments p WHERE p.invoice_id = payment_attempts.invoice_id)"
        " WHERE kind = 'REFUND'"
    )
    with op.batch_alter_table("invoices", **KEEP_IDS) as batch:
        batch.alter_column(
            "amount_paid", existing_type=Hundredths(), existing_nullable=False, server_default=None
        )
    with op.batch_alter_table("invoice_totals") as batch:
        batch.alter_column(
            "paid", existing_type=Hundredths(), existing_nullable=False, server_default=None
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_attempts", **KEEP_IDS) as batch:
        batch.drop_constraint(op.f("fk_payment_attempts_payment_id_payments"), type_="foreignkey")
        batch.drop_column("payment_id")
    with op.batch_alter_table("invoice_totals") as batch:
        batch.drop_column("paid")
    with op.batch_alter_table("invoices", **KEEP_IDS) as batch:
        batch.drop_column("amount_paid")
    op.drop_table("installments")
    op.drop_index("ix_payments_reference", table_name="payments")
    op.drop_index("ix_payments_invoice_id", table_name="payments")
    op.drop_table("payments")
