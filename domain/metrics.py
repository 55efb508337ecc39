"""What the service counts and times, for Prometheus (served at GET /metrics).

Labels hold only bounded values (root field names of the schema, error codes, payment
methods), never ids or client-chosen text, so the number of series stays small.

With several server processes (`invoicing serve --workers N`) each process counts for
itself into PROMETHEUS_MULTIPROC_DIR and a scrape adds them up (prometheus-client's
multiprocess mode); `invoicing serve` sets that directory up.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from domain.errors import DomainError

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

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


@contextmanager
def outcome_counted(counter: Counter, **labels: str) -> Iterator[None]:
    """Count the block's outcome: ok, the refusal's error code, or "error"."""
    try:
        yield
    except DomainError as refusal:
        counter.labels(**labels, outcome=refusal.code.value).inc()
        raise
    except Exception:
        counter.labels(**labels, outcome="error").inc()
        raise
    counter.labels(**labels, outcome="ok").inc()


def counts_outcomes(counter: Counter) -> Callable[[F], F]:
    """Count each call's outcome on `counter`, as outcome_counted does for a block."""

    def decorate(function: F) -> F:
        @wraps(function)
        async def counted(*args: Any, **kwargs: Any) -> Any:
            with outcome_counted(counter):
                return await function(*args, **kwargs)

        return counted  # type: ignore[return-value]

    return decorate


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, of every process when there are several."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
