"""Preview server benchmark, in headless Chromium against a real `invoicing preview`:

- a template file written -> the new HTML on screen       (target <= 200 ms p50, 400 ms max)
- a template file written -> the new 20-line PDF in page  (target <= 1 s max)
- a cached PDF fetched                                     (target <= 20 ms)

    .venv/bin/python bench/preview.py [--rounds 20] [--before /tmp/before]

Each block of saves starts 2 s after its page is up (a designer reads the page before the
first save; start-up work is not a save's). With --before, an earlier checkout's preview server (run from that folder) goes through
the same saves in the same sitting, in blocks of five saves taken in turn, so that a busy
moment of the machine lands on both. Every save is waited for until its text is on screen
and its PDF has replaced the one before: a save that never shows stops the bench.
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
from bench._stats import load_average  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


SETTLE_SECONDS = 2.0
MARKS = """() => {
  window.__marks = [];
  const html = document.getElementById('html');
  new MutationObserver(() => {
    const body = html.contentDocument && html.contentDocument.body;
    const holds = !!(body && window.__marker && body.textContent.includes(window.__marker));
    window.__marks.push(['html', Date.now(), holds]);
  }).observe(document.body, {attributes: true, attributeFilter: ['data-version']});
  new MutationObserver(() => window.__marks.push(['pdf', Date.now()]))
    .observe(document.getElementById('pdf'), {attributes: true, attributeFilter: ['src']});
}"""


def table(title: str, rows: list[tuple[str, list[float], str]]) -> None:
    print(f"\n{title}")
    print(f"  {'measure':52s} {'p50':>9s} {'max':>9s}  target")
    for name, values, target in rows:
        print(f"  {name:52s} {statistics.median(values):7.0f}ms {max(values):7.0f}ms  {target}")


async def browser_round_trips(
    base: str, template: Path, profile: Path, rounds: range
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
        # The page notes, by the wall clock, when each new HTML is on screen (its frame's
        # onload sets data-version) and holds the marker, and when a new PDF is put in:
        # exact to the millisecond, where Playwright's own waiting polls every 100 ms.
        await page.evaluate(MARKS)
        # A designer looks at the page before the first save: the preview's start-up (render
        # workers and the e-invoice checker starting, the first checks) is not a save's.
        await asyncio.sleep(SETTLE_SECONDS)
        to_html, to_pdf = [], []
        for round_number in rounds:
            marker = f"Edited {round_number}"
            await page.evaluate(
                "marker => { window.__marker = marker; window.__marks = []; }", marker
            )
            started = time.time() * 1000
            template.write_text(original.replace('"bill_to": "Bill to"', f'"bill_to": "{marker}"'))
            await page.wait_for_function(
                "() => window.__marks.some(m => m[0] === 'html' && m[2])", timeout=10000
            )
            await page.wait_for_function(
                "() => window.__marks.some(m => m[0] === 'pdf' && "
                "window.__marks.some(h => h[0] === 'html' && h[2] && h[1] <= m[1]))",
                timeout=20000,
            )
            marks = await page.evaluate("window.__marks")
            shown = min(m[1] for m in marks if m[0] == "html" and m[2])
            pdf = min(m[1] for m in marks if m[0] == "pdf" and m[1] >= shown)
            to_html.append(shown - started)
            to_pdf.append(pdf - started)
            await asyncio.sleep(0.3)
        await context.close()
    template.write_text(original)  # the next block of saves starts from the same file
    return to_html, to_pdf


def serve(stack: contextlib.ExitStack, work: Path, checkout: Path | None) -> tuple[str, Path]:
    """A preview server of this checkout (or of `checkout`) over its own copy of the
    templates and fixtures; its base URL and its template file."""
    source = checkout or REPO
    templates, fixtures = work / "templates", work / "fixtures"
    shutil.copytree(
        source / "invoice_templates", templates, ignore=shutil.ignore_patterns("golden")
    )
    shutil.copytree(source / "fixtures", fixtures)
    env = {"PYTHONPATH": str(checkout)} if checkout else None
    base = stack.enter_context(
        invoicing(
            "preview",
            "--templates",
            str(templates),
            "--fixtures",
            str(fixtures),
            env=env,
            ready="/",
        )
    )
    return base, templates / "norfone_invoice_template.html"


def main(rounds: int, before: Path | None) -> None:
    builds = [("this checkout", None)] + ([(f"before ({before})", before)] if before else [])
    stack = contextlib.ExitStack()
    try:
        servers = []
        for _, checkout in builds:
            work = Path(tempfile.mkdtemp())
            servers.append((*serve(stack, work, checkout), work))
        results = {name: ([], []) for name, _ in builds}
        for block in range(0, rounds, 5):
            saves = range(block, min(block + 5, rounds))
            for (name, _), (base, template, work) in zip(builds, servers, strict=True):
                html, pdf = asyncio.run(
                    browser_round_trips(base, template, work / "profile", saves)
                )
                results[name][0].extend(html)
                results[name][1].extend(pdf)
        cached = []
        with httpx.Client(base_url=servers[0][0]) as client:
            client.get("/preview/norfone_invoice_template/twenty_lines.pdf")
            for _ in range(50):
                started = time.perf_counter()
                response = client.get("/preview/norfone_invoice_template/twenty_lines.pdf")
                cached.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200 or response.headers["x-cache"] != "HIT":
                    raise SystemExit(f"cached PDF: {response.status_code} {response.headers}")
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores, Chromium {CHROMIUM}, "
            f"{rounds} saves; load average {load_average()}"
        )
        rows = []
        for name, _ in builds:
            to_html, to_pdf = results[name]
            rows.append((f"{name}: saved -> new HTML on screen", to_html, "p50 <= 200, max <= 400"))
            rows.append((f"{name}: saved -> new PDF in the page", to_pdf, "max <= 1000"))
        rows.append(("this checkout: cached PDF fetched (HTTP)", cached, "p50 <= 20"))
        table("Preview server (twenty_lines fixture, norfone template)", rows)
    finally:
        stack.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--before", type=Path, default=None, help="an earlier checkout")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.before)
