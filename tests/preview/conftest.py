import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from domain.config import Settings
from preview_server.app import build_preview_app
from tests.conftest import REPO, TEMPLATES


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the shipped templates and fixtures, free to edit."""
    templates, fixtures = tmp_path / "templates", tmp_path / "fixtures"
    shutil.copytree(TEMPLATES, templates, ignore=shutil.ignore_patterns("golden"))
    shutil.copytree(REPO / "fixtures", fixtures)
    return templates, fixtures


@pytest.fixture
async def preview(folders: tuple[Path, Path]) -> AsyncIterator[httpx.AsyncClient]:
    app = build_preview_app(Settings(), *folders, watch=False, hosts=["preview"])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://preview") as client:
            yield client
