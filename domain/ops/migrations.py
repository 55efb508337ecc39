"""Schema migrations (Alembic), run from the command line and by the tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database at `url` to `revision`; a no-op when it is already there.
    Answers the revision it was at (None: an empty database) and the one it is at now."""
    config = alembic_config(url)
    command.upgrade(config, revision)
    before, after = config.attributes.get("revisions", (None, None))
    return before, after


async def upgrade_async(url: str, revision: str = "head") -> None:
    # env.py runs its own event loop, so it cannot share the caller's.
    await asyncio.to_thread(upgrade, url, revision)
