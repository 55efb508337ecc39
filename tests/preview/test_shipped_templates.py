"""The shipped templates, every fixture and language: they render cleanly and look exactly
as their golden images (update those on purpose: `invoicing templates snapshot --update`)."""

from pathlib import Path

import pytest

from domain.adapters.font_coverage import InstalledFonts
from domain.adapters.weasyprint_pool import WeasyPrintPool
from domain.config import Settings
from preview_server.checks import check_all, compare, snapshot
from preview_server.workspace import Workspace
from tests.conftest import REPO, TEMPLATES


# Every template, fixture and language rendered (52 PDFs), and again as images: 18 s and
# 25 s on a slow machine, the slow lane's.
@pytest.mark.slow
async def test_every_combination_renders_without_findings(pdf_renderer: WeasyPrintPool) -> None:
    workspace = Workspace(Settings(), TEMPLATES, REPO / "fixtures", pdf_renderer)
    rows = await check_all(workspace, InstalledFonts(TEMPLATES))
    assert len(rows) == 52  # 2 templates x 13 fixtures x 2 languages
    assert [row for row in rows if row.problem] == []
    assert max(row.pages for row in rows) >= 3  # the 120-line fixture spans pages


@pytest.mark.slow
async def test_every_page_matches_its_golden_image(
    pdf_renderer: WeasyPrintPool, tmp_path: Path
) -> None:
    workspace = Workspace(Settings(), TEMPLATES, REPO / "fixtures", pdf_renderer)
    rows = await snapshot(workspace, TEMPLATES / "golden", update=False, diff_dir=tmp_path)
    assert [row for row in rows if row.status != "same"] == []


def test_a_moved_pixel_block_is_caught_with_a_diff_image(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    golden = sorted((TEMPLATES / "golden" / "norfone_invoice_template").glob("short-1.png"))[0]
    changed = tmp_path / "changed.png"
    with Image.open(golden) as image:
        moved = image.convert("RGB")
        ImageDraw.Draw(moved).rectangle((40, 200, 140, 240), fill=(255, 0, 255))
        moved.save(changed)
    share = compare(golden, changed, tmp_path / "diff.png")
    assert share > 0.002 and (tmp_path / "diff.png").exists()
    assert (
        compare(golden, golden, tmp_path / "same.png") == 0 and not (tmp_path / "same.png").exists()
    )
