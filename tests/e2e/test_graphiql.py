"""GraphiQL as a newcomer meets it, in a real browser with the internet cut off: it loads
from the server alone, asks for the token once, then shows the schema and runs queries."""

import os
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.conftest import run_cli
from tests.e2e.processes import start_server, stop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"), reason="Chromium is not installed"
)


async def test_graphiql_works_offline_and_asks_for_the_token_once(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", "GRAPHIQL": "true"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    token = run_cli("token", "create", "--role", "staff", env=env).stdout.strip().splitlines()[-1]
    process, base = start_server(env, tmp_path / "serve.log")
    left_the_machine: list[str] = []
    failed: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            context = await browser.new_context()

            async def offline(route) -> None:
                if route.request.url.startswith(base):
                    await route.continue_()
                else:
                    left_the_machine.append(route.request.url)
                    await route.abort()

            await context.route("**/*", offline)
            page = await context.new_page()
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            await page.goto(base + "/graphql")

            form = page.locator("#token-form")
            await expect(form).to_be_visible()
            await page.fill("#token", "inv_not_a_token")
            await page.click("#token-form button")
            await expect(page.locator("#token-problem")).to_contain_text("does not work")
            await page.fill("#token", token)
            await page.click("#token-form button")
            await expect(page.locator(".graphiql-container")).to_be_visible(timeout=20000)
            await expect(form).to_be_hidden()

            await page.click(".graphiql-execute-button")
            await expect(page.locator(".result-window")).to_contain_text("STAFF", timeout=20000)

            # The schema came too: the docs explorer lists the API's types.
            await page.click("[aria-label='Show Documentation Explorer']")
            explorer = page.locator(".graphiql-doc-explorer")
            await expect(explorer).to_contain_text("InvoicePage")
            await expect(explorer).to_contain_text("GenerateInvoiceInput")

            await page.reload()  # the token was kept: straight into GraphiQL
            await expect(page.locator(".graphiql-container")).to_be_visible(timeout=20000)
            await expect(form).to_be_hidden()
            await browser.close()
    finally:
        stop(process)
    assert left_the_machine == []
    assert failed == [base + "/graphql"]  # only the wrong token's check was refused (401)


def test_graphiql_is_off_unless_asked_for(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    process, base = start_server(env, tmp_path / "serve.log")
    try:
        page = httpx.get(base + "/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404 and "server.graphiql" in page.text
        assert httpx.get(base + "/graphiql/graphiql.min.js").status_code == 404
    finally:
        stop(process)
