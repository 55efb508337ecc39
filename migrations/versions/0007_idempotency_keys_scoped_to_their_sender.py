"""idempotency keys belong to whoever sent them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

A key was unique per operation, so one customer's key could replay (and reveal) the result
of another's request with the same key. Keys are now unique per operation and scope
("staff", or "customer:<id>"); keys recorded before this carry the staff scope.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "idempotency_records"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(
            sa.Column("scope", sa.String(length=40), nullable=False, server_default="staff")
        )
        batch.drop_constraint(op.f("uq_idempotency_records_operation_key"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_idempotency_records_operation_scope_key"), ["operation", "scope", "key"]
        )
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column(
            "scope",
            existing_type=sa.String(length=40),
            existing_nullable=False,
            server_default=None,
        )


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f("uq_idempotency_records_operation_scope_key"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_idempotency_records_operation_key"), ["operation", "key"]
        )
        batch.drop_column("scope")
