"""GraphQL documents registered under their SHA-256 (automatic persisted queries): found by
every API process, since they live in the database.

A least-recently-used store: at most `limit` documents, the one sent longest ago going
first when a new one comes; each token may register at most `per_token` of them (past it,
its documents still run, they are just not remembered), so one client cannot fill the
store and push everyone else's documents out. Trusted documents are never here: they live
in their manifest, which nothing evicts.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from domain.model.entities import PersistedDocument
from domain.store.database import Database

TOUCH_EVERY = timedelta(hours=1)


async def find(db: Database, sha256: str) -> str | None:
    async with db.read() as session:
        row = (
            await session.execute(
                select(PersistedDocument.document, PersistedDocument.used_at).where(
                    PersistedDocument.sha256 == sha256
                )
            )
        ).one_or_none()
    if row is None:
        return None
    now = db.now()
    if row.used_at is None or now - row.used_at > TOUCH_EVERY:
        async with db.transaction() as session:
            await session.execute(
                update(PersistedDocument)
                .where(PersistedDocument.sha256 == sha256)
                .values(used_at=now)
            )
    document: str = row.document
    return document


async def remember(
    db: Database, sha256: str, document: str, token_id: int | None, limit: int, per_token: int
) -> bool:
    """Keep `document` under `sha256` for the token that registered it; whether it is
    kept (now or before)."""
    try:
        async with db.transaction() as session:
            if await session.get(PersistedDocument, sha256) is not None:
                return True
            if token_id is not None:
                own = await session.scalar(
                    select(func.count())
                    .select_from(PersistedDocument)
                    .where(PersistedDocument.token_id == token_id)
                )
                if (own or 0) >= per_token:
                    return False
            held = await session.scalar(select(func.count()).select_from(PersistedDocument))
            if (held or 0) >= limit:
                oldest = (
                    select(PersistedDocument.sha256)
                    .order_by(PersistedDocument.used_at.is_(None).desc(), PersistedDocument.used_at)
                    .limit((held or 0) - limit + 1)
                )
                gone = [row for row in (await session.scalars(oldest))]
                await session.execute(
                    delete(PersistedDocument).where(PersistedDocument.sha256.in_(gone))
                )
            session.add(
                PersistedDocument(
                    sha256=sha256, document=document, token_id=token_id, used_at=db.now()
                )
            )
    except IntegrityError:
        pass  # another request registered it at the same moment
    return True
