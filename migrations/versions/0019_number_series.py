"""number series: invoice numbers without gaps, credit notes in a series of their own

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

`number_series` keeps the last number each series gave ("invoice:2026", "credit_note:0");
an invoice numbered with {seq} takes the next in the transaction that issues it and
remembers where it stands (`invoices.number_series`, `number_seq`, unique together).

Numbers issued before were the invoice's id ({id}), so each series starts after the
highest id it already holds in that year (and overall, for numbering_reset: never): no
issued number changes, and no new one can repeat an old one.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
KEEP_IDS = {"table_kwargs": {"sqlite_autoincrement": True}}


def upgrade() -> None:
    series = op.create_table(
        "number_series",
        sa.Column("series", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_number_series")),
        **MYSQL_TABLE,
    )
    with op.batch_alter_table("invoices", **KEEP_IDS) as batch:
        batch.add_column(sa.Column("number_series", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("number_seq", sa.Integer(), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_invoices_number_series_number_seq"), ["number_series", "number_seq"]
        )
    highest: dict[str, int] = defaultdict(int)
    rows = op.get_bind().execute(
        sa.text(
            "SELECT CASE WHEN total < 0 THEN 'credit_note' ELSE 'invoice' END, created_month,"
            " MAX(id) FROM invoices GROUP BY 1, 2"
        )
    )
    for kind, month, last in rows:
        for period in (int(month) // 100, 0):
            key = f"{kind}:{period}"
            highest[key] = max(highest[key], int(last))
    if highest:
        op.bulk_insert(series, [{"series": key, "last": last} for key, last in highest.items()])


def downgrade() -> None:
    with op.batch_alter_table("invoices", **KEEP_IDS) as batch:
        batch.drop_constraint(op.f("uq_invoices_number_series_number_seq"), type_="unique")
        batch.drop_column("number_seq")
        batch.drop_column("number_series")
    op.drop_table("number_series")
