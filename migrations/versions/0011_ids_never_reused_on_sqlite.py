"""ids are never handed out twice on SQLite

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25

Without AUTOINCREMENT SQLite gives a new row the highest id + 1, so deleting the newest
charge hands its id to the next one: an id already printed on an export or named in an
audit trail would then mean another charge. The tables whose ids go out are rebuilt with
AUTOINCREMENT (SQLite's sqlite_sequence remembers the highest id ever used). MariaDB's
AUTO_INCREMENT never reuses ids: nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = (
    "customers",
    "contacts",
    "products",
    "transactions",
    "invoices",
    "invoice_events",
    "payment_attempts",
)


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
