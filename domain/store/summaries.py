"""Maintained summaries (store/invoice_totals.py, store/receivable_totals.py, ...) add to
rows by their keys, creating each the first time: one upsert, written once for both
databases, for as many rows as a change moves.

The rows every change shares (the all-customers rows) are locked from that statement to
the commit, and the changes of every other customer wait for them meanwhile: one
statement for all of a change's rows of a table, not one per row, keeps that short; and
the rows go in the order of their keys, so that two changes at once lock them in the same
order and never wait on each other crosswise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.entities import Base


async def add_to(
    session: AsyncSession, summary: type[Base], keys: dict[str, Any], amounts: dict[str, Any]
) -> None:
    """Add `amounts` to the summary row of `keys` (a new row starts from them)."""
    await add_to_each(session, summary, tuple(keys), {tuple(keys.values()): amounts})


async def add_to_each(
    session: AsyncSession,
    summary: type[Base],
    key_names: Sequence[str],
    changes: Mapping[tuple[Any, ...], dict[str, Any]],
) -> None:
    """Add each key's amounts (the same names for every key) to its row, in one
    statement; nothing for no changes."""
    if not changes:
        return
    rows = [
        {**dict(zip(key_names, key, strict=True)), **amounts}
        for key, amounts in sorted(changes.items())
    ]
    names = list(rows[0].keys() - set(key_names))
    table: Any = summary
    if session.get_bind().dialect.name == "mysql":
        upsert = mysql.insert(table).values(rows)
        await session.execute(
            upsert.on_duplicate_key_update(
                **{name: getattr(table, name) + upsert.inserted[name] for name in names}
            )
        )
        return
    insert = sqlite.insert(table).values(rows)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=list(key_names),
            set_={name: getattr(table, name) + insert.excluded[name] for name in names},
        )
    )
