"""What a running process holds: its settings and its database, opened once at start."""

from __future__ import annotations

from dataclasses import dataclass

from domain.config import Settings
from domain.db import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        return cls(settings=settings, db=Database.from_settings(settings.database))

    async def close(self) -> None:
        await self.db.dispose()
