"""GET /metrics: what a Prometheus scrape sees change as the API is used."""

import dataclasses

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from domain.bootstrap import Runtime
from domain.config import ServerSettings, Settings
from graph.app import build_app
from tests.api.test_pdf_download import _download, _invoice
from tests.helpers import Api

PAY = "mutation($id: ID!) { payInvoice(input: {invoiceId: $id, method: CASH}) { errors { code } } }"
EMAIL = "mutation($id: ID!) { emailInvoice(id: $id) { errors { code } } }"


async def _scrape(api: Api) -> dict[tuple[str, tuple], float]:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _delta(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_operations_pdfs_and_payments(api: Api, settings: Settings) -> None:
    invoice_id, _ = await _invoice(api, settings)
    before = await _scrape(api)

    await api.gql("{ invoices { totalCount } }")
    await api.gql_errors("{ invoices { noSuchField } }")
    assert (await _download(api, invoice_id)).status_code == 200
    assert (await _download(api, invoice_id)).status_code == 200
    assert (await api.gql(PAY, {"id": str(invoice_id)}))["payInvoice"]["errors"] == []
    paid_again = await api.gql(PAY, {"id": str(invoice_id)})
    assert paid_again["payInvoice"]["errors"] == [{"code": "ALREADY_PAID"}]
    unsent = await api.gql(EMAIL, {"id": str(invoice_id)})  # the customer has no contact
    assert unsent["emailInvoice"]["errors"] == [{"code": "NO_RECIPIENT"}]

    after = await _scrape(api)
    requests = "invoicing_graphql_requests_total"
    assert _delta(before, after, requests, operation="invoices", outcome="ok") == 1
    assert _delta(before, after, requests, operation="invoices", outcome="invalid") == 1
    assert _delta(before, after, requests, operation="payInvoice", outcome="ok") == 2
    latency = "invoicing_graphql_request_seconds_count"
    assert _delta(before, after, latency, operation="invoices") == 2
    cache = "invoicing_pdf_cache_requests_total"
    assert _delta(before, after, cache, result="miss") == 1
    assert _delta(before, after, cache, result="hit") == 1
    assert _delta(before, after, "invoicing_pdf_render_seconds_count") == 1
    assert _delta(before, after, "invoicing_pdf_size_bytes_sum") > 1000
    payments = "invoicing_payments_total"
    assert _delta(before, after, payments, method="CASH", outcome="ok") == 1
    assert _delta(before, after, payments, method="CASH", outcome="ALREADY_PAID") == 1
    emails = "invoicing_invoice_emails_total"
    assert _delta(before, after, emails, outcome="NO_RECIPIENT") == 1
    assert ("invoicing_work_queue_depth", ()) in after


async def test_metrics_need_no_token_and_hold_no_customer_data(
    api: Api, settings: Settings
) -> None:
    await _invoice(api, settings, name="Very Private Customer Pty Ltd")
    await api.gql('{ invoices(filter: {search: "Very Private"}) { totalCount } }')
    text = (await api.client.get("/metrics")).text
    assert "Very Private" not in text and "INV-" not in text


async def test_metrics_can_require_a_token_of_their_own(api: Api, runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={"server": ServerSettings(metrics_token=SecretStr("scrape-secret"))}
    )
    app = build_app(settings, runtime=dataclasses.replace(runtime, settings=settings))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/metrics")).status_code == 401
        staff = {"Authorization": f"Bearer {await api.staff_token()}"}
        assert (await client.get("/metrics", headers=staff)).status_code == 401
        scraper = {"Authorization": "Bearer scrape-secret"}
        assert (await client.get("/metrics", headers=scraper)).status_code == 200
