"""Maintained summaries (store/invoice_totals.py, store/receivable_totals.py) add to a row
by its key, creating it the first time: one upsert, written once for both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.entities import Base


async def add_to(
    session: AsyncSession, summary: type[Base], keys: dict[str, Any], amounts: dict[str, Any]
) -> None:
    """Add `amounts` to the summary row of `keys` (a new row starts from them)."""
    table: Any = summary
    if session.get_bind().dialect.name == "mysql":
        upsert = mysql.insert(table).values(**keys, **amounts)
        await session.execute(
            upsert.on_duplicate_key_update(
                **{name: getattr(table, name) + upsert.inserted[name] for name in amounts}
            )
        )
        return
    insert = sqlite.insert(table).values(**keys, **amounts)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: getattr(table, name) + insert.excluded[name] for name in amounts},
        )
    )
