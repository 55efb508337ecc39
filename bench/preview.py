"""Preview server benchmark, in headless Chromium against a real `invoicing preview`:

- a template file written -> the new HTML on screen       (target <= 200 ms)
- a template file written -> the new 20-line PDF in page  (target <= 1 s)
- a cached PDF fetched                                     (target <= 20 ms)

    .venv/bin/python bench/preview.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._server import invoicing  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def table(title: str, rows: list[tuple[str, list[float], float]]) -> None:
    print(f"\n{title}")
    print(f"  {'measure':44s} {'p50':>9s} {'max':>9s} {'target':>9s}")
    for name, values, target in rows:
        print(
            f"  {name:44s} {statistics.median(values):7.0f}ms {max(values):7.0f}ms {target:7.0f}ms"
        )


async def browser_round_trips(
    base: str, template: Path, profile: Path, rounds: int
) -> tuple[list[float], list[float]]:
    original = template.read_text()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = await context.new_page()
        await page.goto(f"{base}/preview/norfone_invoice_template/twenty_lines")
        html_frame = page.frame_locator("#html")
        await html_frame.locator("text=Acme Logistics").wait_for()
        await page.wait_for_function(
            "document.getElementById('pdfinfo').textContent.includes('pages')"
        )
        to_html, to_pdf = [], []
        for round_number in range(rounds):
            marker = f"Edited {round_number}"
            before_pdf = await page.evaluate("document.getElementById('pdf').src")
            started = time.perf_counter()
            template.write_text(original.replace('"bill_to": "Bill to"', f'"bill_to": "{marker}"'))
            await html_frame.locator(f"text={marker}").wait_for(timeout=10000)
            to_html.append((time.perf_counter() - started) * 1000)
            await page.wait_for_function(
                f"document.getElementById('pdf').src !== {before_pdf!r}", timeout=20000
            )
            to_pdf.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.3)
        await context.close()
    return to_html, to_pdf


def main(rounds: int) -> None:
    work = Path(tempfile.mkdtemp())
    templates, fixtures = work / "templates", work / "fixtures"
    shutil.copytree(REPO / "invoice_templates", templates, ignore=shutil.ignore_patterns("golden"))
    shutil.copytree(REPO / "fixtures", fixtures)
    server = contextlib.ExitStack()
    base = server.enter_context(
        invoicing("preview", "--templates", str(templates), "--fixtures", str(fixtures), ready="/")
    )
    try:
        template = templates / "norfone_invoice_template.html"
        to_html, to_pdf = asyncio.run(browser_round_trips(base, template, work / "profile", rounds))
        cached = []
        with httpx.Client(base_url=base) as client:
            client.get("/preview/norfone_invoice_template/twenty_lines.pdf")
            for _ in range(50):
                started = time.perf_counter()
                response = client.get("/preview/norfone_invoice_template/twenty_lines.pdf")
                cached.append((time.perf_counter() - started) * 1000)
                assert response.headers["x-cache"] == "HIT"
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores, Chromium {CHROMIUM}, {rounds} edits"
        )
        table(
            "Preview server (twenty_lines fixture, norfone template)",
            [
                ("template written -> new HTML on screen", to_html, 200),
                ("template written -> new PDF in the page", to_pdf, 1000),
                ("cached PDF fetched (HTTP)", cached, 20),
            ],
        )
    finally:
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    main(parser.parse_args().rounds)
