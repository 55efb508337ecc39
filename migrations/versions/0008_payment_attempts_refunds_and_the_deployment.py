"""payment attempts, refunded amounts, the deployment's key prefix

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Card charges and refunds are claimed as payment attempts before the provider is called
and settled after, so no transaction is open during the call. A paid invoice keeps what
has been refunded of it (a partial refund made in Stripe's dashboard). The deployment's
key prefix, generated here once, keeps this installation's Stripe idempotency keys apart
from any other's on the same account.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import domain.model.columns

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    deployment = op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_prefix", sa.String(length=32), nullable=False),
        sa.Column("created_at", domain.model.columns.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
        **MYSQL_TABLE,
    )
    op.bulk_insert(
        deployment,
        [{"id": 1, "key_prefix": f"inv{secrets.token_hex(4)}", "created_at": datetime.now(UTC)}],
    )
    op.create_table(
        "payment_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "CHARGE",
                "REFUND",
                name="attemptkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "PENDING",
                "SUCCEEDED",
                "DECLINED",
                "FAILED",
                name="attemptstate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("amount", domain.model.columns.Hundredths(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider_key", sa.String(length=120), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("payment_method_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", domain.model.columns.UTCDateTime(), nullable=False),
        sa.Column("settled_at", domain.model.columns.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payment_attempts_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_payment_attempts_payment_method_id_payment_methods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempts")),
        sa.UniqueConstraint("provider_key", name=op.f("uq_payment_attempts_provider_key")),
        **MYSQL_TABLE,
    )
    op.create_index(
        "ix_payment_attempts_invoice_state", "payment_attempts", ["invoice_id", "state"]
    )
    op.create_index(op.f("ix_payment_attempts_state"), "payment_attempts", ["state"])
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(
            sa.Column(
                "refunded_amount",
                domain.model.columns.Hundredths(),
                nullable=False,
                server_default="0",
            )
        )
    # Invoices refunded before this migration were refunded in full.
    op.execute("UPDATE invoices SET refunded_amount = total WHERE status = 'REFUNDED'")
    with op.batch_alter_table("invoices") as batch:
        batch.alter_column(
            "refunded_amount",
            existing_type=domain.model.columns.Hundredths(),
            existing_nullable=False,
            server_default=None,
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("refunded_amount")
    op.drop_index(op.f("ix_payment_attempts_state"), table_name="payment_attempts")
    op.drop_index("ix_payment_attempts_invoice_state", table_name="payment_attempts")
    op.drop_table("payment_attempts")
    op.drop_table("deployment")
