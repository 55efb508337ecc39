"""The end-to-end tests: `invoicing` processes, workers, Node clients, browsers. All of them
are in the slow lane (`make test-slow`)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import _mysql_database

REPO = Path(__file__).resolve().parents[2]
INVOICING = str(Path(sys.executable).with_name("invoicing"))
REDIS_URL = "redis://127.0.0.1:6379/0"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """Run the installed `invoicing` command the way a user would."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("CRM_CONFIG", "DATABASE_URL")}
    full_env.update(env or {})
    return subprocess.run(
        [INVOICING, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120
    )


@pytest.fixture(params=["sqlite", "mariadb"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated yet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    else:
        yield from _mysql_database()


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own on the real Redis, deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at 127.0.0.1:6379 is required (REQUIRE_REDIS=1): {exc}")
        pytest.skip(f"Redis at 127.0.0.1:6379 is not reachable: {exc}")
    name = f"invoicing-test-{secrets.token_hex(4)}"
    yield name
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    yield from _mysql_database()
