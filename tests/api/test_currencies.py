"""Every customer billed in its own currency (SQLite and MariaDB): the invoice, its PDF, its
e-invoice, the stats cards and Stripe all in that currency, with its minor unit (EUR 2,
JPY 0, KWD 3), and cards that never add up two currencies."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from pypdf import PdfReader

from domain.bootstrap import Runtime
from tests.api.test_payments import ATTACH, PAY
from tests.consistency import assert_consistent
from tests.fakes.clock import PinnableClock
from tests.fakes.stripe_server import FakeStripe
from tests.helpers import Api, make_charge, make_customer, snapshot

CUSTOMER = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) { customer { id currency } errors { code field message } }
}"""
UPDATE = """
mutation($id: ID!, $input: CustomerInput!) {
  updateCustomer(id: $id, input: $input) {
    customer { id currency } errors { code field message }
  }
}"""
CHARGE = """
mutation($input: TransactionInput!) {
  createTransaction(input: $input) {
    transaction { id retailCost taxAmount currency } errors { code field message }
  }
}"""
GENERATE = """mutation($c: ID!) { generateInvoice(input: {customerId: $c,
  startDate: "2026-01-01", endDate: "2026-12-31"}) {
    invoice { id number total currency amountDue } errors { code message } } }"""
STATS = """query($currency: String) { invoiceStats(currency: $currency) {
  currency total { amount count display } unpaid { amount count } } }"""
INVOICES = """query($currency: String) { invoices(filter: {currency: $currency}) {
  totalCount items { number currency total } } }"""
EINVOICE = (
    "query($id: ID!) { invoice(id: $id) { eInvoice(format: UBL) { valid errors { rule } } } }"
)
UBL = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
MARCH = "2026-03-05T10:00:00Z"


def _address() -> dict[str, str]:
    return {"addressLine1": "1 Main St", "city": "Madrid", "country": "España"}


async def _customer(api: Api, name: str, currency: str | None, language: str = "en") -> str:
    given: dict[str, Any] = {"name": name, "language": language, "address": _address()}
    if currency is not None:
        given["currency"] = currency
    made = (await api.gql(CUSTOMER, {"input": given}))["createCustomer"]
    assert made["errors"] == [], made
    return str(made["customer"]["id"])


async def _charge(api: Api, customer: str, cost: str, tax: str = "0") -> dict[str, Any]:
    given = {
        "customerId": customer,
        "title": "Service",
        "retailCost": cost,
        "taxPercentage": tax,
        "createdAt": MARCH,
    }
    return (await api.gql(CHARGE, {"input": given}))["createTransaction"]


async def _bill(api: Api, customer: str) -> dict[str, Any]:
    made = (await api.gql(GENERATE, {"c": customer}))["generateInvoice"]
    assert made["errors"] == [], made
    return made["invoice"]


async def _pdf_text(api: Api, invoice_id: str) -> str:
    auth = {"Authorization": f"Bearer {await api.staff_token()}"}
    response = await api.client.get(f"/crm/invoice/{invoice_id}/pdf", headers=auth)
    assert response.status_code == 200, response.text
    pages = PdfReader(io.BytesIO(response.content)).pages
    # A no-break space (between an amount and its symbol) reads back as a space or as itself.
    return "\n".join(page.extract_text() for page in pages).replace("\xa0", " ")


async def test_a_euro_customers_invoice_is_in_euros_everywhere_and_the_dollar_cards_do_not_move(
    api: Api, clock: PinnableClock
) -> None:
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    dollars = await _customer(api, "Acme", None)
    assert (await _charge(api, dollars, "100.00"))["errors"] == []
    assert (await _bill(api, dollars))["currency"] == "USD"
    before = (await api.gql(STATS, {}))["invoiceStats"]

    euros = await _customer(api, "Distribuciones Levante S.L.", "EUR", "es")
    charged = await _charge(api, euros, "1234.50")
    assert charged["errors"] == [] and charged["transaction"]["currency"] == "EUR"
    preview = await api.gql(
        """query($c: ID!) { invoicePreview(input: {customerId: $c, startDate: "2026-01-01",
          endDate: "2026-12-31"}) { currency total } }""",
        {"c": euros},
    )
    assert preview["invoicePreview"] == {"currency": "EUR", "total": "1234.50"}
    invoice = await _bill(api, euros)
    assert (invoice["currency"], invoice["total"]) == ("EUR", "1234.50")

    # Without a currency the cards count the business's (USD): the euro invoice is not in them.
    assert (await api.gql(STATS, {}))["invoiceStats"] == before
    assert before["currency"] == "USD" and before["total"]["amount"] == "100.00"
    in_euros = (await api.gql(STATS, {"currency": "EUR"}))["invoiceStats"]
    assert in_euros["currency"] == "EUR"
    assert in_euros["total"] == {"amount": "1234.50", "count": 1, "display": "€1.2k"}
    assert in_euros["unpaid"] == {"amount": "1234.50", "count": 1}
    listed = (await api.gql(INVOICES, {"currency": "EUR"}))["invoices"]
    assert listed["totalCount"] == 1 and listed["items"][0]["currency"] == "EUR"

    # The Spanish customer's PDF writes euros as Spanish does; the e-invoice says EUR (BT-5).
    assert "1.234,50 €" in await _pdf_text(api, invoice["id"])
    auth = {"Authorization": f"Bearer {await api.staff_token()}"}
    ubl = await api.client.get(f"/crm/invoice/{invoice['id']}/ubl", headers=auth)
    assert ubl.status_code == 200, ubl.text
    root = ElementTree.fromstring(ubl.content)
    assert root.findtext("cbc:DocumentCurrencyCode", namespaces=UBL) == "EUR"
    amounts = root.findall(".//cbc:PayableAmount", UBL)
    assert [(a.text, a.get("currencyID")) for a in amounts] == [("1234.50", "EUR")]
    valid = await api.gql(EINVOICE, {"id": invoice["id"]})
    assert valid["invoice"]["eInvoice"] == {"valid": True, "errors": []}
    await assert_consistent(api.db)


async def test_a_yen_customer_refuses_cents_prints_yen_and_is_charged_in_yen(
    shop: tuple[Api, Runtime], stripe_fake: FakeStripe, clock: PinnableClock
) -> None:
    api, _ = shop
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    yen = await _customer(api, "Kaizen Robotics K.K.", "JPY")
    before = await snapshot(api.db)
    refused = await _charge(api, yen, "1500.50")
    assert refused["errors"] == [
        {
            "code": "INVALID_INPUT",
            "field": "retailCost",
            "message": "Retail cost may have no decimals in JPY.",
        }
    ]
    assert await snapshot(api.db) == before
    charged = await _charge(api, yen, "1500", tax="10")
    assert charged["transaction"]["taxAmount"] == "150.00"
    invoice = await _bill(api, yen)
    assert (invoice["currency"], invoice["total"]) == ("JPY", "1650.00")
    assert "¥1,650" in await _pdf_text(api, invoice["id"])

    attached = await api.gql(ATTACH, {"c": yen, "pm": "pm_card_visa", "d": True})
    assert attached["attachPaymentMethod"]["errors"] == []
    cents = {"invoiceId": invoice["id"], "method": "CASH", "amount": "0.50"}
    assert (await api.gql(PAY, {"input": cents}))["payInvoice"]["errors"][0]["code"] == (
        "INVALID_INPUT"
    )
    paid = (await api.gql(PAY, {"input": {"invoiceId": invoice["id"], "method": "STRIPE"}}))[
        "payInvoice"
    ]
    assert paid["errors"] == [] and paid["invoice"]["status"] == "PAID"
    # Stripe takes yen in yen: zero-decimal, 1650 is ¥1,650 (not 165000).
    assert [(c["amount"], c["currency"]) for c in stripe_fake.charges] == [(1650, "jpy")]
    await assert_consistent(api.db)


async def test_a_dinar_amount_keeps_three_decimals_end_to_end(
    api: Api, clock: PinnableClock
) -> None:
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    dinars = await _customer(api, "Gulf Freight W.L.L.", "KWD")
    assert (await _charge(api, dinars, "12.3456"))["errors"][0]["message"] == (
        "Retail cost may have at most 3 decimals in KWD."
    )
    charged = await _charge(api, dinars, "12.345", tax="5")
    assert charged["transaction"]["taxAmount"] == "0.617"  # 0.61725, half up to the fils
    invoice = await _bill(api, dinars)
    assert (invoice["currency"], invoice["total"]) == ("KWD", "12.962")
    part = {"invoiceId": invoice["id"], "method": "CASH", "amount": "2.005"}
    paid = await api.gql(
        """mutation($input: PayInvoiceInput!) { payInvoice(input: $input) {
          invoice { amountPaid amountDue status } errors { code message } } }""",
        {"input": part},
    )
    assert paid["payInvoice"] == {
        "invoice": {"amountPaid": "2.005", "amountDue": "10.957", "status": "UNPAID"},
        "errors": [],
    }
    cards = (await api.gql(STATS, {"currency": "KWD"}))["invoiceStats"]
    assert cards["total"]["amount"] == "12.962" and cards["unpaid"]["amount"] == "10.957"
    text = await _pdf_text(api, invoice["id"])
    assert "KWD 12.962" in text and "KWD 10.957" in text
    # EN 16931 amounts have at most two decimals: the e-invoice carries the fils exactly
    # and says it breaks that rule, rather than rounding its totals out of step.
    verdict = await api.gql(EINVOICE, {"id": invoice["id"]})
    checked = verdict["invoice"]["eInvoice"]
    assert checked["valid"] is False
    assert any(error["rule"].startswith("BR-DEC") for error in checked["errors"]), checked
    await assert_consistent(api.db)


async def test_a_currency_is_checked_and_changes_only_before_the_first_invoice(
    api: Api, clock: PinnableClock
) -> None:
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    unknown = await api.gql(CUSTOMER, {"input": {"name": "X", "currency": "XYZ"}})
    assert unknown["createCustomer"]["errors"][0]["field"] == "currency"
    assert "ISO 4217" in unknown["createCustomer"]["errors"][0]["message"]

    customer = await make_customer(api.db, "Acme")
    charge = await make_charge(
        api.db, customer.id, "10.50", created_at=datetime(2026, 3, 5, tzinfo=UTC)
    )
    before = await snapshot(api.db)
    to_yen = {"id": str(customer.id), "input": {"name": "Acme", "currency": "jpy"}}
    refused = (await api.gql(UPDATE, to_yen))["updateCustomer"]
    assert (
        refused["errors"][0]["field"] == "currency" and "10.50" in refused["errors"][0]["message"]
    )
    assert await snapshot(api.db) == before

    fixed = await api.gql(
        """mutation($id: ID!) { updateTransaction(id: $id, input: {retailCost: "10"}) {
          errors { code } } }""",
        {"id": str(charge.id)},
    )
    assert fixed["updateTransaction"]["errors"] == []
    moved = (await api.gql(UPDATE, to_yen))["updateCustomer"]
    assert moved["errors"] == [] and moved["customer"]["currency"] == "JPY"
    invoice = await _bill(api, str(customer.id))
    assert (invoice["currency"], invoice["total"]) == ("JPY", "10.00")

    to_euros = {"id": str(customer.id), "input": {"name": "Acme", "currency": "EUR"}}
    locked = (await api.gql(UPDATE, to_euros))["updateCustomer"]
    assert locked["errors"][0]["code"] == "CURRENCY_IN_USE"
    errors = await api.gql_errors(STATS, {"currency": "dollars"})
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"
    await assert_consistent(api.db)


async def test_a_charge_racing_a_currency_change_never_ends_in_the_wrong_currency(
    api: Api, clock: PinnableClock
) -> None:
    """A cents charge and a change to yen, sent together, over and over: either the charge
    is made and the change refused (the customer keeps its dollars), or the change is made
    and the charge refused; never a yen customer with a 10.50 charge."""
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    for round_ in range(6):
        customer = await _customer(api, f"Racing {round_}", "USD")
        to_yen = {"id": customer, "input": {"name": f"Racing {round_}", "currency": "JPY"}}
        charged, changed = await asyncio.gather(
            _charge(api, customer, "10.50"), api.gql(UPDATE, to_yen)
        )
        moved = changed["updateCustomer"]["errors"] == []
        made = charged["errors"] == []
        assert moved != made, (charged, changed)
        currency = (
            await api.gql("query($id: ID!) { customer(id: $id) { currency } }", {"id": customer})
        )["customer"]["currency"]
        assert currency == ("JPY" if moved else "USD")
    await assert_consistent(api.db)
