"""token expiry, the customer behind an event's actor

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

A token may be minted with an expiry (`invoicing token create --expires-in 30d`); past it,
the token is refused like a revoked one. An invoice event made with a customer's own token
keeps that customer, so the customer sees "you" there and "staff" elsewhere, never the
name of a staff member's token.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import domain.model.columns

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", domain.model.columns.UTCDateTime(), nullable=True))
    with op.batch_alter_table("invoice_events") as batch:
        batch.add_column(sa.Column("actor_customer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_invoice_events_actor_customer", "customers", ["actor_customer_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("invoice_events") as batch:
        batch.drop_constraint("fk_invoice_events_actor_customer", type_="foreignkey")
        batch.drop_column("actor_customer_id")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
