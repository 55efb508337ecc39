"""checkout attempts: a Stripe Checkout session opened from the invoice's page

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

A payment attempt may be a CHECKOUT (the customer pays on the provider's page), which
keeps the page's address and when it expires, so a second press of the pay button reuses
the session instead of opening another; or a RETURN, a second payment given back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.model.columns import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

KEEP_IDS = {"table_kwargs": {"sqlite_autoincrement": True}}
# The naming convention (domain/model/entities.py) makes it ck_payment_attempts_attemptkind.
CONSTRAINT = "attemptkind"


def upgrade() -> None:
    with op.batch_alter_table("payment_attempts", **KEEP_IDS) as batch:
        batch.add_column(sa.Column("checkout_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch.drop_constraint(CONSTRAINT, type_="check")
        batch.create_check_constraint(
            CONSTRAINT, "kind IN ('CHARGE', 'REFUND', 'CHECKOUT', 'RETURN')"
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_attempts", **KEEP_IDS) as batch:
        batch.drop_constraint(CONSTRAINT, type_="check")
        batch.create_check_constraint(CONSTRAINT, "kind IN ('CHARGE', 'REFUND')")
        batch.drop_column("expires_at")
        batch.drop_column("checkout_url")
