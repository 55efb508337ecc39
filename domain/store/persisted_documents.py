"""GraphQL documents registered under their SHA-256 (automatic persisted queries): found by
every API process, since they live in the database. At most `limit` are kept: past it a
document is still run, just not remembered, so a client cannot grow the table for ever."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain.model.entities import PersistedDocument
from domain.store.database import Database


async def find(db: Database, sha256: str) -> str | None:
    async with db.read() as session:
        found: str | None = await session.scalar(
            select(PersistedDocument.document).where(PersistedDocument.sha256 == sha256)
        )
    return found


async def remember(db: Database, sha256: str, document: str, limit: int) -> bool:
    """Keep `document` under `sha256`; whether it is kept (now or before)."""
    try:
        async with db.transaction() as session:
            if await session.get(PersistedDocument, sha256) is not None:
                return True
            held = await session.scalar(select(func.count()).select_from(PersistedDocument))
            if (held or 0) >= limit:
                return False
            session.add(PersistedDocument(sha256=sha256, document=document))
    except IntegrityError:
        pass  # another request registered it at the same moment
    return True
