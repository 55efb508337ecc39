"""Batch reads for the GraphQL DataLoaders: many rows by id, or many rows by their parent's
id, each in one query however many keys a page asks for. Every nested field goes through
one of these two (graph/context.py), so a bigger page costs no more queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute

from domain.model.entities import Base
from domain.store.database import Database

E = TypeVar("E", bound=Base)


async def rows_by_id(db: Database, entity: type[E], ids: Iterable[int]) -> dict[int, E]:
    """{id: row} for the ids that exist."""
    key: InstrumentedAttribute[int] = entity.id  # type: ignore[attr-defined]
    async with db.read() as session:
        rows = await session.execute(select(entity).where(key.in_(set(ids))))
        return {row.id: row for row in rows.scalars()}  # type: ignore[attr-defined]


async def rows_by_parent(
    db: Database,
    entity: type[E],
    parent: InstrumentedAttribute[int],
    ids: Iterable[int],
    *order_by: ColumnElement[Any] | InstrumentedAttribute[Any],
    where: ColumnElement[bool] | None = None,
) -> dict[int, list[E]]:
    """{parent id: [rows, in order]} (only rows meeting `where`); a parent without rows is
    absent."""
    found: dict[int, list[E]] = defaultdict(list)
    query = select(entity, parent).where(parent.in_(set(ids))).order_by(*order_by)
    if where is not None:
        query = query.where(where)
    async with db.read() as session:
        rows = await session.execute(query)
        for row, parent_id in rows:
            found[parent_id].append(row)
    return found
