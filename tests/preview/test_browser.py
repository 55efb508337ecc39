"""The preview page in a real browser (Debian's Chromium, driven by Playwright) against a
real `invoicing preview` process watching real files."""

import http.client
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, async_playwright, expect
from pypdf import PdfReader

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Chromium is not installed",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(folders: tuple[Path, Path]) -> Iterator[str]:
    templates, fixtures = folders
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("invoicing")),
        "preview",
        "--port",
        str(port),
        "--templates",
        str(templates),
        "--fixtures",
        str(fixtures),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(
            f"the preview server did not start: {process.stderr.read().decode() if process.stderr else ''}"
        )
    yield base
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Headless Chromium with a fresh, empty profile."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield context
        await context.close()


async def test_the_page_follows_edits_without_reloading(
    server: str, browser: BrowserContext, folders: tuple[Path, Path]
) -> None:
    templates, _ = folders
    page = await browser.new_page()
    await page.goto(server + "/")
    await page.click("a[href='/preview/norfone_invoice_template/spanish?lang=es']")
    await page.wait_for_url("**/preview/norfone_invoice_template/spanish?lang=es")
    html = page.frame_locator("#html")
    await expect(html.locator("text=Compañía Andina de Datos S.A.")).to_be_visible()
    await expect(page.locator("#pdfinfo")).to_contain_text("pages")
    await page.evaluate("window.stillTheSamePage = true")

    variant = templates / "norfone_invoice_template_es.html"
    variant.write_text(
        variant.read_text().replace('"bill_to": "Facturar a"', '"bill_to": "Cliente facturado"')
    )
    await expect(html.locator("text=Cliente facturado")).to_be_visible(timeout=15000)
    assert await page.evaluate("window.stillTheSamePage") is True
    lint_panel = page.locator("#lint")
    await expect(lint_panel).to_contain_text("provided but unused: currency_code")
    await expect(lint_panel.locator(".bad")).to_have_count(0)

    base_template = templates / "norfone_invoice_template.html"
    good = base_template.read_text()
    base_template.write_text(good.replace("{{ heading }}</h1>", "{{ heading }</h1>", 1))
    overlay = page.locator("#overlay")
    await expect(overlay).to_be_visible(timeout=15000)
    await expect(overlay).to_contain_text("norfone_invoice_template.html, line")
    await expect(overlay.locator("pre")).to_contain_text("{{ heading }")

    base_template.write_text(good)
    await expect(overlay).to_be_hidden(timeout=15000)
    await expect(html.locator("text=Cliente facturado")).to_be_visible()
    assert await page.evaluate("window.stillTheSamePage") is True


async def test_a_fixture_edit_updates_the_page_and_the_pdf(
    server: str, browser: BrowserContext, folders: tuple[Path, Path]
) -> None:
    _, fixtures = folders
    page = await browser.new_page()
    await page.goto(server + "/preview/cifi_invoice_template/short")
    html = page.frame_locator("#html")
    await expect(html.locator("text=Acme Logistics Pty Ltd")).to_be_visible()
    fixture = fixtures / "short.yaml"
    fixture.write_text(fixture.read_text().replace("Acme Logistics Pty Ltd", "Wayne Enterprises"))
    await expect(html.locator("text=Wayne Enterprises")).to_be_visible(timeout=15000)
    pdf = await page.request.get(server + "/preview/cifi_invoice_template/short.pdf")
    assert (
        pdf.ok
        and "Wayne Enterprises" in PdfReader(io.BytesIO(await pdf.body())).pages[0].extract_text()
    )


def test_path_traversal_is_refused(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    for path in (
        "/templates/../../../../etc/passwd",
        "/templates/..%2f..%2f..%2fetc%2fpasswd",
        "/preview/../../etc/passwd.html",
    ):
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        connection.request("GET", path)  # sent as is, dots and all
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        assert response.status == 404, path
        assert "root:" not in body


async def test_the_page_opens_on_the_configured_template_and_fetches_nothing_missing(
    server: str, browser: BrowserContext
) -> None:
    page = await browser.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.on("requestfailed", lambda r: missing.append(r.url))
    await page.goto(server + "/")
    await expect(page.locator("header strong").first).to_have_text("norfone_invoice_template")
    html = page.frame_locator("#html")
    await expect(html.locator("img").first).to_be_visible()
    await expect(page.locator("#pdfinfo")).to_contain_text("pages")
    assert await html.locator("img").first.evaluate("img => img.naturalWidth") > 0
    assert missing == []
