"""The Metrics port on prometheus-client (served at GET /metrics).

Labels hold only bounded values (root field names of the schema, error codes, payment
methods), never ids or client-chosen text, so the number of series stays small.

With several server processes (`invoicing serve --workers N`) each process counts for
itself into PROMETHEUS_MULTIPROC_DIR and a scrape adds them up (prometheus-client's
multiprocess mode); `invoicing serve` sets that directory up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

from domain.errors import DomainError

# prometheus-client's metrics are process-wide by design: defined once, at import.
GRAPHQL_REQUESTS = Counter(
    "invoicing_graphql_requests_total",
    "GraphQL operations answered, by root field and outcome (ok or an error code).",
    ["operation", "outcome"],
)
GRAPHQL_SECONDS = Histogram(
    "invoicing_graphql_request_seconds",
    "Time to answer a GraphQL operation, by root field.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PDF_RENDER_SECONDS = Histogram(
    "invoicing_pdf_render_seconds",
    "Time to render one invoice PDF.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
PDF_SIZE_BYTES = Histogram(
    "invoicing_pdf_size_bytes",
    "Size of rendered invoice PDFs.",
    buckets=(10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000),
)
PDF_CACHE = Counter(
    "invoicing_pdf_cache_requests_total",
    "Invoice PDFs asked for, by whether the cache had a current one.",
    ["result"],
)
QUEUE_DEPTH = Gauge(
    "invoicing_work_queue_depth",
    "Rendering and billing jobs waiting to start.",
    multiprocess_mode="mostrecent",
)
PAYMENTS = Counter(
    "invoicing_payments_total",
    "Payments asked for, by method and outcome (ok or an error code).",
    ["method", "outcome"],
)
EMAILS = Counter(
    "invoicing_invoice_emails_total",
    "Invoice emails asked for, by outcome (ok or an error code).",
    ["outcome"],
)
NEEDS_REVIEW = Counter(
    "invoicing_payments_needing_review_total",
    "Money that moved but could not settle an invoice (a webhook's amount, currency or "
    "customer that does not match, a charge on an invoice no longer open), by source.",
    ["source"],
)
WEBHOOKS = Counter(
    "invoicing_webhook_deliveries_total",
    "Webhook tries, by event type and outcome (succeeded, pending: to be retried, failed: "
    "given up, taken over: another worker had taken it).",
    ["event_type", "outcome"],
)
_OUTCOMES = {"payment": PAYMENTS, "email": EMAILS}


class PrometheusMetrics:
    def operation(self, name: str, outcome: str, seconds: float) -> None:
        GRAPHQL_SECONDS.labels(operation=name).observe(seconds)
        GRAPHQL_REQUESTS.labels(operation=name, outcome=outcome).inc()

    @contextmanager
    def outcomes(self, kind: Literal["payment", "email"], **labels: str) -> Iterator[None]:
        counter = _OUTCOMES[kind]
        try:
            yield
        except DomainError as refusal:
            counter.labels(**labels, outcome=refusal.code.value).inc()
            raise
        except Exception:
            counter.labels(**labels, outcome="error").inc()
            raise
        counter.labels(**labels, outcome="ok").inc()

    def pdf_cache(self, *, hit: bool) -> None:
        PDF_CACHE.labels(result="hit" if hit else "miss").inc()

    def needs_review(self, source: str) -> None:
        NEEDS_REVIEW.labels(source=source).inc()

    def pdf_rendered(self, seconds: float, size_bytes: int) -> None:
        PDF_RENDER_SECONDS.observe(seconds)
        PDF_SIZE_BYTES.observe(size_bytes)

    def queue_depth(self, depth: int) -> None:
        QUEUE_DEPTH.set(depth)

    def webhook_sent(self, event_type: str, outcome: str) -> None:
        WEBHOOKS.labels(event_type=event_type, outcome=outcome).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus' text format, of every process when there are several."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(), CONTENT_TYPE_LATEST


def serve_metrics(port: int, host: str) -> None:
    """This process's metrics on their own port (a worker has no API to serve them)."""
    start_http_server(port, addr=host)
