"""Checks a team runs in CI: every template x fixture x language renders cleanly, and its
pages look as they did (golden PNGs, compared pixel by pixel within a small tolerance)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops

from domain.ports import GlyphCoverage
from domain.rendering.glyphs import unprintable
from preview_server.workspace import PreviewError, Workspace

# A pixel differs when a channel moves by more than this; a page fails when more than
# TOLERANCE of its pixels differ (anti-aliasing noise stays well below).
CHANNEL_DELTA = 48
TOLERANCE = 0.002
DPI = 40


@dataclass(frozen=True)
class CheckRow:
    name: str
    pages: int = 0
    size_bytes: int = 0
    milliseconds: float = 0
    problem: str = ""


def combinations(workspace: Workspace) -> Iterator[tuple[str, str, str | None]]:
    for template in workspace.templates():
        languages = [None, *workspace.languages(template)[1:]]
        for fixture in workspace.fixtures():
            for language in languages:
                yield template, fixture, language


def label(template: str, fixture: str, language: str | None) -> str:
    return f"{template}/{fixture}" + (f"?lang={language}" if language else "")


async def check_all(workspace: Workspace, glyphs: GlyphCoverage) -> list[CheckRow]:
    rows = []
    # The fixture's text is the same under every template and language: checked once.
    unprintable_in: dict[str, list[str]] = {}
    for template, fixture, language in combinations(workspace):
        name = label(template, fixture, language)
        try:
            _, report = await workspace.lint(template, fixture, language)
            started = time.perf_counter()
            pdf = await workspace.pdf(template, fixture, language)
        except PreviewError as error:
            rows.append(CheckRow(name, problem=str(error)))
            continue
        problems = [f"missing variable {v}" for v in report.missing]
        if fixture not in unprintable_in:
            unprintable_in[fixture] = unprintable(glyphs, workspace.document(fixture).texts())
        problems += unprintable_in[fixture]
        problems += [f"remote URL {u}" for u in report.remote_urls]
        # The emails the fixture makes: the invoice's, and its reminders before and after.
        for days in (None, -3, 7):
            try:
                await workspace.email(fixture, language, days)
            except PreviewError as error:
                which = "invoice email" if days is None else f"reminder ({days:+d} days)"
                problems.append(f"{which}: {error}")
        elapsed = (time.perf_counter() - started) * 1000
        rows.append(CheckRow(name, pdf.page_count, len(pdf.data), elapsed, "; ".join(problems)))
    return rows


def pdf_to_pngs(pdf: bytes, folder: Path) -> list[Path]:
    source = folder / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", str(source), str(folder / "page")], check=True
    )
    return sorted(folder.glob("page-*.png"))


def compare(golden: Path, current: Path, diff_path: Path) -> float:
    """The share of pixels that differ; writes a diff image (changes in red) when any do."""
    with Image.open(golden) as old, Image.open(current) as new:
        old_rgb, new_rgb = old.convert("RGB"), new.convert("RGB")
        if old_rgb.size != new_rgb.size:
            return 1.0
        difference = (
            ImageChops.difference(old_rgb, new_rgb)
            .convert("L")
            .point(lambda v: 255 if v > CHANNEL_DELTA else 0)
        )
        changed = sum(difference.histogram()[255:])
        share = changed / (old_rgb.width * old_rgb.height)
        if changed:
            overlay = new_rgb.copy()
            overlay.paste((220, 0, 0), mask=difference)
            diff_path.parent.mkdir(parents=True, exist_ok=True)
            overlay.save(diff_path)
        return share


@dataclass(frozen=True)
class SnapshotRow:
    name: str
    pages: int
    status: str  # "same", "changed", "new", "updated", "error"
    detail: str = ""


async def snapshot(
    workspace: Workspace, golden_dir: Path, update: bool, diff_dir: Path
) -> list[SnapshotRow]:
    rows = []
    for template, fixture, language in combinations(workspace):
        name = label(template, fixture, language)
        stem = f"{template}/{fixture}" + (f"_{language}" if language else "")
        try:
            pdf = await workspace.pdf(template, fixture, language)
        except PreviewError as error:
            rows.append(SnapshotRow(name, 0, "error", str(error)))
            continue
        with tempfile.TemporaryDirectory() as scratch:
            pages = pdf_to_pngs(pdf.data, Path(scratch))
            goldens = [golden_dir / f"{stem}-{n}.png" for n in range(1, len(pages) + 1)]
            existing = sorted((golden_dir / template).glob(f"{Path(stem).name}-*.png"))
            if update:
                for old in existing:
                    old.unlink()
                for page, target in zip(pages, goldens, strict=True):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(page, target)
                rows.append(SnapshotRow(name, len(pages), "updated"))
                continue
            if not existing:
                rows.append(
                    SnapshotRow(name, len(pages), "new", "no golden images; run with --update")
                )
                continue
            if len(existing) != len(pages):
                rows.append(
                    SnapshotRow(
                        name,
                        len(pages),
                        "changed",
                        f"{len(existing)} golden pages, now {len(pages)}",
                    )
                )
                continue
            worst = []
            for number, (page, golden) in enumerate(zip(pages, goldens, strict=True), start=1):
                share = compare(golden, page, diff_dir / f"{stem}-{number}-diff.png")
                if share > TOLERANCE:
                    worst.append(
                        f"page {number}: {share:.2%} of pixels moved (diff: {diff_dir / f'{stem}-{number}-diff.png'})"
                    )
            rows.append(
                SnapshotRow(name, len(pages), "changed" if worst else "same", "; ".join(worst))
            )
    return rows
