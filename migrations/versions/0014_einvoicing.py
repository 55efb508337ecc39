"""e-invoicing: the buyer's identifiers and preferred format, tax exemptions, credited invoices

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

An invoice is also an EN 16931 e-invoice (Factur-X or UBL). A customer gains its tax id,
its electronic address (a Peppol participant id) and the e-invoice it wants; products,
charges and billed lines an exemption reason for untaxed lines (category E rather than
Z); a credit the invoice it corrects, which the credit note billing it cites.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FORMATS = ("NONE", "FACTURX", "UBL")
# SQLite rebuilds a table to alter it: these keep AUTOINCREMENT (migration 0011).
KEEP_IDS = {"table_kwargs": {"sqlite_autoincrement": True}}


def upgrade() -> None:
    with op.batch_alter_table("customers", **KEEP_IDS) as batch:
        batch.add_column(sa.Column("tax_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("electronic_address", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column(
                "einvoice_format",
                sa.Enum(
                    *FORMATS,
                    name="einvoiceformat",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                nullable=True,
            )
        )
    with op.batch_alter_table("products", **KEEP_IDS) as batch:
        batch.add_column(sa.Column("tax_exemption_reason", sa.String(length=200), nullable=True))
    with op.batch_alter_table("transactions", **KEEP_IDS) as batch:
        batch.add_column(sa.Column("tax_exemption_reason", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("credits_invoice_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_transactions_credits_invoice_id_invoices",
            "invoices",
            ["credits_invoice_id"],
            ["id"],
        )
    with op.batch_alter_table("invoice_lines") as batch:
        batch.add_column(sa.Column("tax_exemption_reason", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("credited_invoice_number", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("credited_invoice_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoice_lines") as batch:
        batch.drop_column("credited_invoice_date")
        batch.drop_column("credited_invoice_number")
        batch.drop_column("tax_exemption_reason")
    with op.batch_alter_table("transactions", **KEEP_IDS) as batch:
        batch.drop_constraint("fk_transactions_credits_invoice_id_invoices", type_="foreignkey")
        batch.drop_column("credits_invoice_id")
        batch.drop_column("tax_exemption_reason")
    with op.batch_alter_table("products", **KEEP_IDS) as batch:
        batch.drop_column("tax_exemption_reason")
    with op.batch_alter_table("customers", **KEEP_IDS) as batch:
        batch.drop_column("einvoice_format")
        batch.drop_column("electronic_address")
        batch.drop_column("tax_id")
