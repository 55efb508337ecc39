"""search words: the search box finds names and titles by word through an index

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

`customer_name_words` and `invoice_title_words` hold each folded word of every customer's
name and of every distinct invoice title (store/search_words.py keeps them from now on,
in the transaction that writes a name or a title); they are filled here from the rows
already there. Downgrading drops them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.store.search_words import rebuild

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    op.create_table(
        "customer_name_words",
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_name_words_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("word", "customer_id", name=op.f("pk_customer_name_words")),
        **MYSQL_TABLE,
    )
    op.create_table(
        "invoice_title_words",
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("word", "title", name=op.f("pk_invoice_title_words")),
        **MYSQL_TABLE,
    )
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("invoice_title_words")
    op.drop_table("customer_name_words")
