"""currency per customer: customers and invoices name their currency, money in thousandths

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

- `customers.currency` and `invoices.currency` (ISO 4217): every customer and invoice so
  far was in business.currency_code, which they are given here (read from the
  configuration at upgrade time).
- Money columns hold integer thousandths instead of hundredths, so that a currency with
  three minor digits (KWD, BHD) is exact: every stored amount is multiplied by 10.
- The two summaries gain the currency in their keys (the stats cards never add up two
  currencies); they are summaries, so they are recreated and recounted from the invoices.

Downgrading refuses while an amount uses the third digit or a second currency is in use:
the older schema could not hold either.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.config import load_settings
from domain.model.columns import Hundredths, Thousandths

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
KEEP_IDS = {"table_kwargs": {"sqlite_autoincrement": True}}

MONEY = {
    "transactions": ["retail_cost", "tax_amount"],
    "invoice_lines": ["retail_cost", "tax_amount"],
    "invoices": ["subtotal", "tax", "total", "refunded_amount", "amount_paid"],
    "payments": ["amount", "refunded_amount"],
    "installments": ["amount", "amount_paid"],
    "late_fees": ["amount"],
    "payment_attempts": ["amount"],
}
# Tables whose ids SQLite must never reuse (migration 0011): kept through batch copies.
NO_REUSE = {"customers", "invoices"}
STATUS = sa.Enum(
    "UNPAID",
    "PAID",
    "REFUNDED",
    name="invoicestatus",
    native_enum=False,
    create_constraint=True,
    length=16,
)
OPEN = "status = 'UNPAID' AND void = false AND total > 0 AND total > amount_paid"


def _add_currency(table: str, code: str) -> None:
    # NOT NULL with the business currency as a default fills every row at once (an instant
    # change on MariaDB); the default goes after, so that nothing is ever left to it.
    kwargs = KEEP_IDS if table in NO_REUSE else {}
    column = sa.Column("currency", sa.String(length=3), nullable=False, server_default=code)
    with op.batch_alter_table(table, **kwargs) as batch:
        batch.add_column(column)
    with op.batch_alter_table(table, **kwargs) as batch:
        batch.alter_column(
            "currency",
            existing_type=sa.String(length=3),
            existing_nullable=False,
            server_default=None,
        )


def _scale_money(factor: str) -> None:
    for table, columns in MONEY.items():
        assignments = ", ".join(f"{column} = {column} {factor}" for column in columns)
        op.execute(f"UPDATE {table} SET {assignments}")


def _summaries(money: type[sa.types.TypeEngine[object]], with_currency: bool) -> None:
    """Create both summaries (with or without the currency in their keys) and fill them
    from the invoices."""

    def currency() -> list[sa.Column[str]]:
        return [sa.Column("currency", sa.String(length=3), nullable=False)] if with_currency else []

    keyed = ["currency"] if with_currency else []
    op.create_table(
        "invoice_totals",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        *currency(),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("void", sa.Boolean(), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("total", money(), nullable=False),
        sa.Column("paid", money(), nullable=False),
        sa.PrimaryKeyConstraint(
            "customer_id", *keyed, "month", "status", "void", name=op.f("pk_invoice_totals")
        ),
        **MYSQL_TABLE,
    )
    op.create_table(
        "receivable_totals",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        *currency(),
        sa.Column("falls_due", sa.Date(), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("due", money(), nullable=False),
        sa.PrimaryKeyConstraint(
            "customer_id", *keyed, "falls_due", name=op.f("pk_receivable_totals")
        ),
        **MYSQL_TABLE,
    )
    by = "currency, " if with_currency else ""
    for owner, group in (("customer_id", "customer_id, "), ("0", "")):
        op.execute(
            f"INSERT INTO invoice_totals (customer_id, {by}month, status, void, invoice_count,"
            " total, paid)"
            f" SELECT {owner}, {by}created_month, status, void, COUNT(*), SUM(total),"
            f" SUM(amount_paid) FROM invoices GROUP BY {group}{by}created_month, status, void"
        )
        op.execute(
            f"INSERT INTO receivable_totals (customer_id, {by}falls_due, invoice_count, due)"
            f" SELECT {owner}, {by}next_due_date, COUNT(*), SUM(total - amount_paid)"
            f" FROM invoices WHERE {OPEN} GROUP BY {group}{by}next_due_date"
        )


def upgrade() -> None:
    code = load_settings().business.currency_code
    _add_currency("customers", code)
    _add_currency("invoices", code)
    _scale_money("* 10")
    op.drop_table("invoice_totals")
    op.drop_table("receivable_totals")
    _summaries(Thousandths, with_currency=True)


def downgrade() -> None:
    bind = op.get_bind()
    currencies = bind.execute(sa.text("SELECT COUNT(DISTINCT currency) FROM customers")).scalar()
    if (currencies or 0) > 1:
        raise RuntimeError("customers are billed in several currencies; 0019 holds only one")
    for table, columns in MONEY.items():
        fine = " OR ".join(f"{column} % 10 <> 0" for column in columns)
        if bind.execute(sa.text(f"SELECT 1 FROM {table} WHERE {fine} LIMIT 1")).first():
            raise RuntimeError(f"{table} holds amounts in thousandths; 0019 keeps hundredths")
    _scale_money("/ 10")
    op.drop_table("invoice_totals")
    op.drop_table("receivable_totals")
    for table in ("invoices", "customers"):
        with op.batch_alter_table(table, **(KEEP_IDS if table in NO_REUSE else {})) as batch:
            batch.drop_column("currency")
    _summaries(Hundredths, with_currency=False)
