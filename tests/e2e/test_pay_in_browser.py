"""The customer pays from the emailed link, in a real browser: the invoice page's button
(a plain form, no script) sends Chromium on to the payment provider's page, which the
page's Content-Security-Policy lets it reach; once the provider says the payment went
through (its webhook), the same page says it is paid."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.conftest import run_cli
from tests.e2e.processes import start_server, stop
from tests.e2e.staff_api import gql, invoice_for
from tests.fakes.stripe_server import FakeStripe, signed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"), reason="Chromium is not installed"
)
SECRET = "whsec_browser"


async def test_a_customer_presses_pay_lands_on_checkout_and_comes_back_to_a_paid_invoice(
    tmp_path: Path,
) -> None:
    fake = FakeStripe()
    config = tmp_path / "crm_config.yaml"
    config.write_text(
        "stripe:\n"
        "  secret_key: sk_test_fake\n"
        f"  api_base: {fake.url}\n"
        f"  webhook_secret: {SECRET}\n"
        f"  checkout_origin: {fake.url}\n"
    )
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", "CRM_CONFIG": str(config)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    token = run_cli("token", "create", "--role", "staff", env=env).stdout.strip().splitlines()[-1]
    process, base = start_server(env, tmp_path / "serve.log")
    violations: list[str] = []
    try:
        _, invoice_id = await invoice_for(base, token, "Walk-in Ltd")
        found = await gql(
            base, token, "query($id: ID!) { invoice(id: $id) { payUrl total } }", {"id": invoice_id}
        )
        pay_url = found["invoice"]["payUrl"]
        assert pay_url.startswith(f"{base}/i/{invoice_id}.")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = await browser.new_page()
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            await page.goto(pay_url)
            button = page.get_by_role("button", name="online")
            await expect(button).to_be_visible()
            async with page.expect_navigation(url=f"{fake.url}/pay/**"):
                await button.click()
            await expect(page.locator("h1")).to_have_text("Pay")  # the provider's page

            [session] = fake.sessions.values()
            paid = fake.pay_checkout(session["id"])
            event = {
                "id": "evt_browser",
                "type": "checkout.session.completed",
                "data": {"object": paid},
            }
            body, signature = signed(event, SECRET)
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"{base}/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
                )
            assert answer.status_code == 200, answer.text

            await page.goto(session["success_url"])  # the provider sends the customer back
            await expect(page.locator(".invoice-state")).to_contain_text("Paid on")
            await expect(page.get_by_role("button", name="online")).to_have_count(0)
            await browser.close()
    finally:
        stop(process)
        fake.close()
    assert violations == []
