"""The outside world as the services see it: small interfaces, and the values that cross them.

    Clock              what time it is                   adapters/clock.py (tests pin it)
    CardGateway        cards and charges at a provider   adapters/stripe_gateway.py
    MailSender         delivering an invoice email       adapters/mailjet.py, adapters/outbox.py
    WebhookSender      POSTing a signed event            adapters/webhook_http.py
    PdfRenderer        HTML to PDF (and Factur-X)        adapters/weasyprint_pool.py
    EInvoiceValidator  EN 16931 rules on CII/UBL XML     adapters/en16931_rules.py
    WorkQueue          work done away from the request   adapters/local_queue.py, adapters/redis_queue.py
    Jobs               what the queue runs               worker.py
    Metrics            counts and timings                adapters/metrics.py

bootstrap.py picks the implementations from the settings. Each port's failures are its own
exceptions here (CardDeclined, EmailFailed, RenderFailed, ...), so a service handles a
provider's refusal without knowing which provider it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

# --- time ----------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


# --- cards ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CardDetails:
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class CardDeclined(Exception):
    """The card was refused (or needs the customer present to authenticate). Nothing was
    charged; an intent the provider left open has been cancelled."""

    def __init__(
        self, reason: str, authentication_required: bool = False, provider_ref: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.authentication_required = authentication_required
        self.provider_ref = provider_ref


class UnknownCard(Exception):
    """The payment provider has no such card."""


class ProviderUnavailable(Exception):
    """The provider could not be reached, or failed for now (a network error, a 5xx, a rate
    limit, a lock timeout): the outcome of the call is unknown; trying again may help."""


class ProviderRejected(Exception):
    """The provider refused the request itself (invalid, unauthenticated, not permitted, an
    idempotency key reused for another request): trying again cannot help; an operator
    must look. Nothing was charged."""


class WebhookRefused(Exception):
    """A webhook the provider did not sign (or signed with another secret, or too long ago,
    or dated in the future)."""


@dataclass(frozen=True)
class Charge:
    """One charge of a saved card, as the provider is asked for it."""

    provider_customer_id: str
    payment_method_id: str
    amount_minor: int
    currency: str
    description: str
    metadata: dict[str, str]
    key: str


ChargeState = Literal["succeeded", "processing", "failed"]


@dataclass(frozen=True)
class ChargeResult:
    """What the provider says of a charge: succeeded, still processing (settled later by
    a webhook or the reconciler), or failed (declined after the fact, or cancelled)."""

    provider_ref: str
    state: ChargeState
    amount_minor: int
    currency: str
    reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    provider_ref: str
    state: ChargeState
    amount_minor: int


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted payment page for one amount, as the provider is asked for it (Stripe
    Checkout, mode=payment): the customer pays there and comes back to `return_url`."""

    amount_minor: int
    currency: str
    description: str
    # What every object the payment makes carries (invoice id, number, our attempt key).
    metadata: dict[str, str]
    key: str  # the idempotency key: the attempt's
    success_url: str
    cancel_url: str
    expires_at: datetime
    provider_customer_id: str | None = None
    customer_email: str | None = None


CheckoutState = Literal["open", "complete", "expired"]


@dataclass(frozen=True)
class CheckoutSession:
    """What the provider says of a checkout: where it is, and whether it took the money."""

    session_id: str
    url: str
    state: CheckoutState
    paid: bool
    payment_ref: str | None  # the PaymentIntent, once there is one
    amount_minor: int
    currency: str
    metadata: dict[str, str]


class CardGateway(Protocol):
    async def lookup_card(self, payment_method_id: str) -> CardDetails: ...

    async def create_customer(self, *, name: str, email: str | None, key: str) -> str:
        """The provider's customer id; `key` makes a retry (or a crash and a retry) find
        the customer the first call made instead of making a second."""
        ...

    async def attach_card(self, payment_method_id: str, provider_customer_id: str) -> None: ...

    async def charge(self, charge: Charge) -> ChargeResult:
        """Charge the card; raises CardDeclined, ProviderUnavailable or ProviderRejected."""
        ...

    async def find_charge(self, *, key: str, provider_customer_id: str) -> ChargeResult | None:
        """The charge made with this idempotency key, if the provider has one: asked when a
        charge's outcome was lost, never answered by charging again."""
        ...

    async def refund(
        self, *, payment_intent_id: str, amount_minor: int | None, key: str
    ) -> RefundResult:
        """Refund all (None) or part of a charge; raises ProviderUnavailable or
        ProviderRejected."""
        ...

    async def find_refund(self, *, payment_intent_id: str, key: str) -> RefundResult | None: ...

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Open a hosted payment page; raises ProviderUnavailable / ProviderRejected."""
        ...

    async def find_checkout(self, session_id: str) -> CheckoutSession | None:
        """A checkout as the provider has it now; None if it has no such session."""
        ...

    def verify_event(
        self, payload: bytes, signature: str, secret: str, now: datetime
    ) -> dict[str, Any]:
        """The event a webhook carries, once its signature proves the provider sent it
        within the tolerance around `now`; raises WebhookRefused."""
        ...


# --- email ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


@dataclass(frozen=True)
class EmailAttachment:
    filename: str
    data: bytes
    media_type: str  # "application/pdf", "application/xml"


@dataclass(frozen=True)
class InvoiceEmail:
    sender: Recipient
    recipients: tuple[Recipient, ...]
    subject: str
    text_body: str
    html_body: str
    template_id: int  # a Mailjet template to use instead of the parts, when not 0
    variables: dict[str, str]
    # The invoice's PDF, then its UBL e-invoice for a customer who wants one.
    attachments: tuple[EmailAttachment, ...]
    written_at: datetime  # the Date header
    message_id: str  # <unique@sender-domain>, made once: a resend is a new message


class EmailFailed(Exception):
    """The provider refused or could not take the message."""


class MailSender(Protocol):
    async def send(self, email: InvoiceEmail) -> None: ...


# --- webhooks ------------------------------------------------------------------------


class TargetRefused(Exception):
    """The URL cannot be resolved, or leads to an address webhooks may not reach."""


@dataclass(frozen=True)
class WebhookAnswer:
    """What an endpoint answered: its status, or why there was no answer (timeout, refused
    connection, a target refused): `status_code` None then."""

    status_code: int | None
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    async def check_target(self, url: str) -> None:
        """Raise TargetRefused if a delivery to `url` would be refused now."""
        ...

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> WebhookAnswer:
        """Never raises for what the endpoint or the network did: that is in the answer."""
        ...

    async def close(self) -> None: ...


# --- PDFs ----------------------------------------------------------------------------


class RenderFailed(Exception):
    """The renderer could not make a PDF of the page."""


class TemplateFailure(Exception):
    """A template could not be rendered; says where and why."""

    def __init__(self, file: str, line: int | None, message: str, snippet: str = "") -> None:
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.message = message
        self.snippet = snippet

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a render worker, it crosses back to the asking process whole.
        return (TemplateFailure, (self.file, self.line, self.message, self.snippet))


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    page_count: int
    refused_urls: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class EmbeddedInvoice:
    """What makes a PDF a Factur-X invoice: the CII XML it carries (as factur-x.xml, the
    PDF's "Alternative" representation) and the profile its XMP metadata declares."""

    xml: bytes
    conformance_level: str = "EN 16931"
    document_type: str = "INVOICE"
    filename: str = "factur-x.xml"


class GlyphCoverage(Protocol):
    """Which characters no installed font can draw (they would print as empty boxes)."""

    def missing(self, text: str) -> str:
        """The characters of `text` no font draws, each once, in order of appearance."""
        ...


class PdfRenderer(Protocol):
    @property
    def timeout_seconds(self) -> float: ...

    @property
    def engine(self) -> str:
        """What renders, and its version: part of every render key."""
        ...

    async def render(
        self, html: str, base_dir: str | Path, embedded: EmbeddedInvoice | None = None
    ) -> RenderedPdf:
        """A PDF of `html`, fetching only files under `base_dir`; raises RenderFailed.
        With `embedded`, a PDF/A-3b carrying that e-invoice (Factur-X)."""
        ...

    async def render_html(self, page: Callable[[], str], template: str) -> str:
        """Run `page`, a picklable call rendering `template`, where a template that runs
        too long or too big is stopped; raises TemplateFailure."""
        ...

    def close(self) -> None: ...


# --- e-invoices ----------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFailure:
    """One rule an e-invoice breaks: an EN 16931 business rule (BR-CO-10), a syntax rule
    (UBL-SR-12), the XML schema (XSD), or our own check of the data (CRM-...)."""

    rule: str
    flag: Literal["fatal", "warning"]
    location: str
    text: str

    def __str__(self) -> str:
        return f"{self.flag} {self.rule} {self.location}: {self.text}"


class ValidationUnavailable(Exception):
    """The validation rules could not be run (missing or unreadable rule files)."""


class UnsafeXml(Exception):
    """An XML document refused before anything acted on it: it declares a DOCTYPE (the way
    to external DTDs, entities and entity bombs), so no parser may read it further."""


class EInvoiceValidator(Protocol):
    @property
    def rules(self) -> str:
        """Which rules run, and their version: part of every cached verdict."""
        ...

    @property
    def peppol(self) -> bool:
        """Whether the Peppol BIS Billing 3.0 rules are at hand (else only EN 16931's)."""
        ...

    async def validate(
        self, xml: bytes, syntax: str, *, peppol: bool = False
    ) -> tuple[RuleFailure, ...]:
        """What `xml` (syntax "cii" or "ubl") breaks: the XML schema, the EN 16931 rules,
        and with `peppol` the Peppol BIS Billing 3.0 rules (UBL); raises
        ValidationUnavailable."""
        ...

    def readable(self, xml: bytes) -> bytes:
        """`xml` parsed once with DTDs, entities, network and file access refused, and
        written out again: what any other parser may then safely read. Raises UnsafeXml for
        a document carrying a DOCTYPE; a document that is not well formed comes back as it
        is, for `validate` to report."""
        ...

    def embedded_xml(self, pdf: bytes) -> bytes | None:
        """The e-invoice XML a Factur-X or ZUGFeRD PDF carries, as `readable` returns it;
        None if it carries none. Raises UnsafeXml."""
        ...

    def close(self) -> None: ...


# --- work away from the request ------------------------------------------------------


class TryLater(Exception):
    """A job could not run now (the database is away); the queue runs it again later."""


@dataclass(frozen=True)
class BillingJob:
    """Bill one customer for a period: plain values, as a queue carries them (JSON)."""

    run_id: str
    customer_id: int
    start: date
    end: date
    due: date
    operator: str

    def as_json(self) -> dict[str, str | int]:
        return {
            "run_id": self.run_id,
            "customer_id": self.customer_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "due": self.due.isoformat(),
            "operator": self.operator,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> BillingJob:
        """Refuses anything that is not exactly a job's fields with their types."""
        if set(data) != {"run_id", "customer_id", "start", "end", "due", "operator"}:
            raise ValueError(f"not a billing job: {sorted(data)}")
        customer_id, run_id, operator = data["customer_id"], data["run_id"], data["operator"]
        if not isinstance(customer_id, int) or isinstance(customer_id, bool):
            raise ValueError("customer_id must be an integer")
        if not isinstance(run_id, str) or not isinstance(operator, str):
            raise ValueError("run_id and operator must be strings")
        return cls(
            run_id=run_id,
            customer_id=customer_id,
            start=date.fromisoformat(str(data["start"])),
            end=date.fromisoformat(str(data["end"])),
            due=date.fromisoformat(str(data["due"])),
            operator=operator,
        )


@dataclass(frozen=True)
class BillOutcome:
    customer_id: int
    outcome: Literal["billed", "skipped", "failed"]
    invoice_id: int | None = None
    code: str | None = None
    message: str | None = None

    def as_json(self) -> dict[str, str | int | None]:
        return {
            "customer_id": self.customer_id,
            "outcome": self.outcome,
            "invoice_id": self.invoice_id,
            "code": self.code,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> BillOutcome:
        outcome = data.get("outcome")
        if outcome not in ("billed", "skipped", "failed"):
            raise ValueError(f"not a billing outcome: {outcome!r}")
        customer_id, invoice_id = data.get("customer_id"), data.get("invoice_id")
        if not isinstance(customer_id, int) or not isinstance(invoice_id, int | None):
            raise ValueError("ids must be integers")
        code, message = data.get("code"), data.get("message")
        return cls(
            customer_id,
            outcome,
            invoice_id,
            str(code) if code is not None else None,
            str(message) if message is not None else None,
        )


class Jobs(Protocol):
    """What a queue runs, wherever it runs it (domain/worker.py)."""

    async def bill_customer(self, job: BillingJob) -> BillOutcome: ...

    async def render_invoice_pdf(self, invoice_id: int) -> None: ...

    async def reconcile_payments(self) -> None:
        """Settle card payments and refunds whose outcome was lost (a periodic job)."""
        ...

    async def dispatch_webhooks(self) -> None:
        """Make and send the webhook deliveries due (a periodic job)."""
        ...

    async def run_dunning(self) -> None:
        """Announce overdue invoices, book late fees, send reminders (a periodic job)."""
        ...


class WorkQueue(Protocol):
    async def prerender(self, invoice_ids: Sequence[int]) -> None:
        """Have these invoices' PDFs rendered soon, so that first downloads are cache hits."""
        ...

    async def bill(
        self, jobs: Sequence[BillingJob], on_progress: Callable[[int], None] | None = None
    ) -> list[BillOutcome]:
        """Run these billing jobs and wait for every outcome (in the jobs' order)."""
        ...

    async def depth(self) -> int:
        """Jobs waiting to start."""
        ...

    async def close(self) -> None: ...


# --- metrics -------------------------------------------------------------------------


class Metrics(Protocol):
    """Counts and timings for operators. Labels take bounded values only (root field
    names, error codes, payment methods), never ids or client-chosen text."""

    def operation(self, name: str, outcome: str, seconds: float) -> None: ...

    def outcomes(
        self, kind: Literal["payment", "email"], **labels: str
    ) -> AbstractContextManager[None]:
        """Count the block's outcome: ok, the refusal's error code, or "error"."""
        ...

    def pdf_cache(self, *, hit: bool) -> None: ...

    def needs_review(self, source: str) -> None:
        """Money moved that could not settle an invoice (`source`: stripe, reconciler, ...)."""
        ...

    def pdf_rendered(self, seconds: float, size_bytes: int) -> None: ...

    def queue_depth(self, depth: int) -> None: ...

    def webhook_sent(self, event_type: str, outcome: str) -> None:
        """A webhook try: succeeded, retrying, failed (given up) or taken over."""
        ...

    def exposition(self) -> tuple[bytes, str]: ...
