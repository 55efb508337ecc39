"""Settings: one typed object, read from YAML and the environment, validated at start.

`crm_config.yaml` at the repository root documents every key with its default. A file
named by `CRM_CONFIG` may set only some keys; the rest keep the defaults below. The
environment overrides the file, so secrets need not live in it: every key as
CRM_<SECTION>__<KEY>, and the short names of ENV_OVERRIDES. pydantic-settings reads the
file and the environment (`load_settings`); `Settings()` itself is only the defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel import localedata
from babel.numbers import get_currency_precision, list_currencies
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key at fault."""


class _Section(BaseModel):
    # A misspelt key is a mistake worth stopping for, not something to ignore.
    model_config = ConfigDict(extra="forbid", frozen=True)


MYSQL_DRIVER = "mysql+asyncmy://"
_RETIRED_MYSQL_DRIVER = "mysql+aiomysql://"


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/invoicing.db"
    pool_size: int = Field(default=10, ge=1, le=200)
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _supported_driver(cls, url: str) -> str:
        if url.startswith(_RETIRED_MYSQL_DRIVER):
            # Deployments' URLs from before asyncmy keep working: the same server, read
            # through the driver we ship.
            return MYSQL_DRIVER + url.removeprefix(_RETIRED_MYSQL_DRIVER)
        if not url.startswith(("sqlite+aiosqlite://", MYSQL_DRIVER)):
            raise ValueError(f"must start with sqlite+aiosqlite:// or {MYSQL_DRIVER}")
        return url


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=5000, ge=1, le=65535)
    # Empty: the address `invoicing serve` listens on (see base_url).
    public_url: str = ""
    # When set, GET /metrics answers only `Authorization: Bearer <metrics_token>`.
    metrics_token: SecretStr = SecretStr("")
    # GraphiQL for a browser opening /graphql (served from this package, no internet
    # needed); off unless asked for (`make run` turns it on).
    graphiql: bool = False
    # Browser apps on these origins may call the API (CORS); empty: none. Exact origins
    # (scheme://host[:port]); "*" for any, since no cookie ever authenticates a request.
    cors_origins: list[str] = []
    # A connection that has not finished sending a request's headers this long after it
    # opened, or after its last answer (keep-alive), is closed.
    keep_alive_seconds: int = Field(default=5, ge=1, le=300)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        # CORS_ORIGINS="https://a.example,https://b.example" from the environment.
        return (
            [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value
        )

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and (
                not origin.startswith(("http://", "https://")) or origin.count("/") != 2
            ):
                raise ValueError(f"{origin!r} is not an origin such as https://app.example.com")
        return origins

    @property
    def base_url(self) -> str:
        """Where clients reach this service: public_url, else the address served on."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url.rstrip("/")


class GraphQLSettings(_Section):
    # Operations one request may carry as a JSON list (Apollo's BatchHttpLink); the batch is
    # costed as one request: its operations' fields add up against limits.max_fields.
    max_batch: int = Field(default=10, ge=1, le=100)
    # Automatic persisted queries (Apollo's PersistedQueryLink): documents registered by
    # hash, kept in the database for every process; at most this many are remembered.
    apq: bool = True
    apq_max_documents: int = Field(default=10_000, ge=1)
    # A document larger than this is run but never stored; each token may register at most
    # apq_documents_per_token (past it, its documents run without being remembered).
    apq_max_document_bytes: int = Field(default=20_000, ge=1_000, le=60_000)
    apq_documents_per_token: int = Field(default=200, ge=1)
    # Live sessions (graphql-transport-ws): at most this many open sockets and running
    # subscriptions per token, across its sockets; every ws_token_check_seconds each open
    # socket's token is looked at again, and a revoked or expired one closes it (4403).
    ws_max_connections_per_token: int = Field(default=5, ge=1)
    ws_max_subscriptions_per_token: int = Field(default=20, ge=1)
    ws_token_check_seconds: float = Field(default=2.0, gt=0, le=60)
    # A JSON manifest of sha256 -> document (graphql-codegen's persisted-documents.json):
    # those may be sent by hash; with only_trusted, nothing else runs.
    trusted_documents: str = ""
    only_trusted: bool = False

    @field_validator("only_trusted")
    @classmethod
    def _needs_a_manifest(cls, only: bool, info: ValidationInfo) -> bool:
        if only and not info.data.get("trusted_documents"):
            raise ValueError("needs graphql.trusted_documents, the manifest to trust")
        return only


class LimitsSettings(_Section):
    """What one API request may cost; past these it gets a clear error, not a stuck worker."""

    max_query_depth: int = Field(default=10, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=4000, ge=50)
    # Checked before validation, whose cost grows with the square of one set's selections.
    max_selections: int = Field(default=100, ge=10)
    max_fields: int = Field(default=1000, ge=50)
    # Values one request may ask for (a batch's operations together): each field counts
    # once per value it returns, a list by its page size (graph/query_cost.py).
    max_cost: int = Field(default=20_000, ge=100)
    # A document's text (comments included): larger is refused before it is read.
    max_document_bytes: int = Field(default=100_000, ge=1_000)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    statement_timeout_seconds: float = Field(default=10, gt=0)


class BankAccountSettings(_Section):
    """Where customers pay by transfer (an e-invoice's BG-16 and BG-17)."""

    # UNTDID 4461: 30 credit transfer, 58 SEPA credit transfer (needs an IBAN).
    payment_means_code: str = Field(default="30", pattern=r"^[0-9]{1,3}$")
    # BT-84: an IBAN, or the account number where IBANs are not used.
    account_id: str = ""
    account_name: str = ""
    # BT-86: a BIC, or the national bank code (an Australian BSB, a UK sort code).
    bank_id: str = ""


class SellerSettings(_Section):
    """The issuer as an e-invoice (EN 16931) names it; printed invoices use the plainer
    name, address and tax_id of business. docs/einvoicing.md maps each key to its BT-n."""

    legal_name: str = "Norfone Telecom Pty Ltd"
    # With the ISO 3166 country prefix (DE123456789); empty where the seller has none.
    vat_id: str = Field(default="", pattern=r"^([A-Z]{2}[0-9A-Za-z+*.]{2,})?$")
    # The tax registration that is not a VAT number, such as an ABN registered for GST.
    tax_registration_id: str = "51824753556"
    # The company's legal registration, and its ISO 6523 scheme (0151: Australian ABN).
    legal_registration_id: str = "51824753556"
    legal_registration_scheme: str = Field(default="0151", pattern=r"^([0-9]{4})?$")
    # Its Peppol participant id, scheme:id. Empty: UBL invoices claim EN 16931 only, not
    # Peppol BIS (Peppol needs both parties' addresses).
    electronic_address: str = "0151:51824753556"
    street: str = "1 Harbour Street"
    additional_street: str = ""
    city: str = "Sydney"
    postcode: str = "2000"
    region: str = "NSW"
    country_code: str = Field(default="AU", pattern=r"^[A-Z]{2}$")
    bank: BankAccountSettings = BankAccountSettings(
        account_id="062000 12345678", account_name="Norfone Telecom Pty Ltd", bank_id="062-000"
    )

    @field_validator("electronic_address")
    @classmethod
    def _scheme_and_id(cls, value: str) -> str:
        if value and not re.fullmatch(r"([0-9]{4}|EM):\S+", value):
            raise ValueError("must be scheme:id, e.g. 0151:51824753556")
        return value


class BusinessSettings(_Section):
    name: str = "Norfone Telecom"
    address: list[str] = ["1 Harbour Street", "Sydney NSW 2000", "Australia"]
    email: str = "billing@norfone.example"
    phone: str = "+61 2 5550 1234"
    tax_id: str = "ABN 51 824 753 556"
    seller: SellerSettings = SellerSettings()
    # What customers are billed in unless they say otherwise (CustomerInput.currency), and
    # what the all-customer stats cards count without a currency argument.
    currency_code: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    # Amounts show each currency's symbol as the reader's language writes it ($, US$, €,
    # ¥); set this only to replace the business currency's (e.g. "A$").
    currency_symbol: str | None = None
    timezone: str = "UTC"
    default_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    # The languages a customer may have: two-letter codes Babel has data for. The template's
    # variant for a language (invoice_es.html) is used where there is one, else the base.
    languages: list[str] = ["en", "es"]

    @field_validator("default_language", "languages")
    @classmethod
    def _known_languages(cls, value: str | list[str]) -> str | list[str]:
        for code in [value] if isinstance(value, str) else value:
            if not re.fullmatch(r"[a-z]{2}", code) or not localedata.exists(code):
                raise ValueError(f"{code!r} is not a two-letter language Babel knows")
        return value

    @field_validator("languages")
    @classmethod
    def _default_is_offered(cls, languages: list[str], info: ValidationInfo) -> list[str]:
        default = info.data.get("default_language")
        return languages if default is None or default in languages else [*languages, default]

    @field_validator("currency_code")
    @classmethod
    def _iso_4217(cls, code: str) -> str:
        if code not in list_currencies():
            raise ValueError(f"{code} is not an ISO 4217 currency code")
        # Amounts are kept as thousandths (model/money.py): ISO 4217's largest minor unit.
        digits = get_currency_precision(code)
        if digits > 3:
            raise ValueError(f"{code} has {digits} decimal places; at most 3 are supported")
        return code

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class PdfCacheSettings(_Section):
    max_age_days: int = Field(default=90, ge=1)
    max_idle_days: int = Field(default=30, ge=1)
    max_total_mb: int = Field(default=1024, ge=1)
    prerender_on_generate: bool = True


class InvoiceSettings(_Section):
    template_dir: str = "invoice_templates"
    template_filename: str = "norfone_invoice_template.html"
    # {seq}: the next number of the series, without gaps; {year}: the year it was issued;
    # {id}: its row id (leaves gaps: the ids are shared by both series).
    number_format: str = "INV-{year}-{seq:06d}"
    # An invoice of credits only (a negative total) is a credit note, in a series of its own.
    credit_note_number_format: str = "CN-{year}-{seq:06d}"
    # When a series starts again from 1: every year (business.timezone), or never.
    numbering_reset: Literal["yearly", "never"] = "yearly"
    # Empty: invoices are paid on this service's own signed invoice page (Invoice.payUrl);
    # a CRM with its own portal names it here, with {id} and {number}.
    pay_url_template: str = ""
    pdf_cache: PdfCacheSettings = PdfCacheSettings()
    render_workers: int = Field(default=2, ge=1, le=64)
    # Render time only (not time waiting for a worker); past it only that worker is ended.
    render_timeout_seconds: int = Field(default=120, ge=5)
    # A template (the Jinja step) that runs longer is stopped with a template error.
    template_timeout_seconds: float = Field(default=10, gt=0)
    # Address space of each render worker; a template asking for more gets a MemoryError.
    render_memory_mb: int = Field(default=2048, ge=512)
    # Renders one viewer may have in flight at once (drafts included); TOO_MANY_REQUESTS beyond.
    renders_per_viewer: int = Field(default=2, ge=1)

    @field_validator("number_format", "credit_note_number_format")
    @classmethod
    def _formats_a_number(cls, fmt: str) -> str:
        try:
            fmt.format(year=2025, id=1, seq=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"may use only {{year}}, {{seq}} and {{id}} ({exc})") from exc
        return fmt

    @field_validator("pay_url_template")
    @classmethod
    def _formats_a_url(cls, fmt: str) -> str:
        if fmt and not fmt.startswith(("https://", "http://")):
            raise ValueError("must be empty or an http(s) URL")
        try:
            fmt.format(id=1, number="INV-2025-000001")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"may use only {{id}} and {{number}} ({exc})") from exc
        return fmt


class EInvoiceSettings(_Section):
    """Invoices as EN 16931 e-invoices (docs/einvoicing.md)."""

    # What a customer who has not chosen gets: NONE (PDFs for people only), FACTURX (its
    # PDFs are PDF/A-3 with the CII XML inside) or UBL (Peppol BIS XML beside the PDF).
    default_format: Literal["NONE", "FACTURX", "UBL"] = "NONE"
    # A folder of compiled EN 16931 validation rules (EN16931-CII-validation.xslt,
    # EN16931-UBL-validation.xslt, optionally PEPPOL-EN16931-UBL.xslt), such as a newer
    # CEN release. Empty: the CEN release shipped in domain/adapters/en16931/.
    rules_dir: str = ""

    @field_validator("rules_dir")
    @classmethod
    def _holds_the_rules(cls, folder: str) -> str:
        if folder:
            for name in ("EN16931-CII-validation.xslt", "EN16931-UBL-validation.xslt"):
                if not (Path(folder) / name).is_file():
                    raise ValueError(f"{folder} has no {name}")
        return folder


class EmailSettings(_Section):
    backend: Literal["outbox", "mailjet"] = "outbox"
    outbox_dir: str = "var/outbox"
    attachment_limit_mb: float = Field(default=15, gt=0)
    # How often a customer's own token may email one invoice within the window; staff are
    # not limited. Every send reaches the customer's contacts through our sender domain.
    customer_sends_per_invoice: int = Field(default=3, ge=0)
    customer_send_window_hours: float = Field(default=24, gt=0)


class MailjetSettings(_Section):
    api_key: SecretStr = SecretStr("")
    api_secret: SecretStr = SecretStr("")
    api_url: str = "https://api.mailjet.com/"
    sender_email: str = "billing@norfone.example"
    sender_name: str = "Norfone Billing"
    invoice_template_id: int = 0


class StripeSettings(_Section):
    secret_key: SecretStr = SecretStr("")
    api_base: str = "https://api.stripe.com"
    webhook_secret: SecretStr = SecretStr("")
    max_network_retries: int = Field(default=2, ge=0, le=10)
    timeout_seconds: float = Field(default=20, gt=0)
    # Prefixes every idempotency key sent to Stripe. Empty: the prefix generated for this
    # database (table `deployment`), so two installations on one account never collide.
    idempotency_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,32}$")
    # The invoice page's pay button opens a Stripe Checkout session that takes payment for
    # this long (Stripe allows 30 minutes to 24 hours); the page may send the browser only
    # to this origin (its Content-Security-Policy form-action).
    checkout_minutes: int = Field(default=60, ge=30, le=1440)
    checkout_origin: str = "https://checkout.stripe.com"

    @property
    def configured(self) -> bool:
        return bool(self.secret_key.get_secret_value())


class PaymentsSettings(_Section):
    """Card payments and refunds whose outcome was lost (a timeout, a crash) are settled by
    asking the provider: by the request that meets them, and every `reconcile_every_seconds`
    by the workers (or the API process, with workers.backend: local)."""

    # A lost call the provider has no trace of after this long is settled as failed.
    unknown_after_seconds: float = Field(default=60, ge=0)
    reconcile_every_seconds: float = Field(default=60, gt=0)


class DunningSettings(_Section):
    """What happens once an invoice falls due (docs: README "Overdue invoices"): reminders
    on a schedule, and the late fee its terms state. A round runs every `run_every_seconds`
    in each worker (or the API process, with workers.backend: local), and on demand with
    `invoicing dunning run`."""

    # Days relative to the due date (negative: before it) on which a reminder is due; a
    # round sends the latest one due and not sent yet, never a burst of the missed ones.
    reminder_days: list[int] = Field(default_factory=lambda: [-3, 1, 7, 14, 30])
    run_every_seconds: float = Field(default=3600, gt=0)
    # A fee of this percentage of what is still due, for each whole month overdue counted
    # from the due date plus the grace days; 0: no fees.
    late_fee_percent_per_month: Decimal = Field(default=Decimal(0), ge=0, le=100)
    late_fee_grace_days: int = Field(default=0, ge=0)
    late_fee_tax_percentage: Decimal = Field(default=Decimal(0), ge=0, le=100)
    # Why an untaxed fee is exempt (an e-invoice line needs a reason for category E).
    late_fee_exemption_reason: str = "Late payment fee: compensation, outside the scope of VAT"

    @field_validator("reminder_days")
    @classmethod
    def _distinct_and_sorted(cls, days: list[int]) -> list[int]:
        if len(set(days)) != len(days):
            raise ValueError("reminder_days must not repeat a day")
        return sorted(days)


class WorkersSettings(_Section):
    """Where rendering and billing work runs: in the process that asked for it (local), or
    on `invoicing worker` processes, on any machine, through a Redis queue (redis)."""

    backend: Literal["local", "redis"] = "local"
    # Keep Redis private and protected: whoever can write to it can queue jobs (which are
    # plain data, checked when read, never code). redis://user:password@host:6379/0, or
    # rediss:// for TLS.
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    queue_name: str = "invoicing:queue"
    # Jobs one worker process runs at once (rendering itself is bounded by render_workers).
    max_jobs: int = Field(default=4, ge=1, le=100)
    # A job running longer is stopped and retried; a worker that dies holds its jobs this
    # long (plus 10 s) before another worker takes them over.
    job_timeout_seconds: int = Field(default=300, ge=1)
    max_tries: int = Field(default=5, ge=1)
    # How often a worker looks at the queue. A worker at max_jobs starts its next jobs only
    # at these ticks, so a long tick idles it between short jobs (0.5 s, arq's default,
    # capped a billing run at max_jobs invoices per half second).
    poll_seconds: float = Field(default=0.05, ge=0.01, le=5)

    @field_validator("redis_url")
    @classmethod
    def _a_redis_url(cls, url: SecretStr) -> SecretStr:
        if not url.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// (TLS) or unix://")
        return url


class LinksSettings(_Section):
    """The invoice links customers open without a token (the email's "view or download")."""

    # Signs every link (HMAC-SHA256). Empty: a secret generated once for this database
    # (`invoicing links rotate` replaces it). Changing it revokes every link given out.
    secret: SecretStr = SecretStr("")
    lifetime_days: int = Field(default=90, ge=1, le=3650)


class WebhooksSettings(_Section):
    """Outbound webhooks to integrators' endpoints (docs/webhooks.md)."""

    # Endpoints on loopback, private, link-local or other non-public addresses are refused
    # (at creation and again at every send, after resolving the name) unless allowed here:
    # a webhook must not become a way into the machines around ours.
    allow_private_targets: bool = False
    # How long one endpoint gets to answer; its answer must be a 2xx to count as delivered.
    timeout_seconds: float = Field(default=10, gt=0, le=60)
    # Failed deliveries are tried again after retry_base_seconds, then twice as long each
    # time up to retry_max_interval_seconds apart, for retry_for_hours after the event.
    retry_base_seconds: float = Field(default=30, gt=0)
    retry_max_interval_seconds: float = Field(default=6 * 3600, gt=0)
    retry_for_hours: float = Field(default=72, gt=0)
    # How often the workers (or the API process, with workers.backend: local) look for
    # events to announce and deliveries due.
    dispatch_every_seconds: float = Field(default=1, gt=0)
    # Deliveries sent at once by one dispatcher.
    concurrency: int = Field(default=8, ge=1, le=100)
    # After rotateWebhookSecret the old secret also signs for this long.
    rotation_overlap_hours: float = Field(default=24, ge=0)


class Settings(_Section):
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings = ServerSettings()
    links: LinksSettings = LinksSettings()
    limits: LimitsSettings = LimitsSettings()
    business: BusinessSettings = BusinessSettings()
    graphql: GraphQLSettings = GraphQLSettings()
    invoice: InvoiceSettings = InvoiceSettings()
    einvoice: EInvoiceSettings = EInvoiceSettings()
    email: EmailSettings = EmailSettings()
    mailjet: MailjetSettings = MailjetSettings()
    stripe: StripeSettings = StripeSettings()
    payments: PaymentsSettings = PaymentsSettings()
    dunning: DunningSettings = DunningSettings()
    workers: WorkersSettings = WorkersSettings()
    webhooks: WebhooksSettings = WebhooksSettings()


#: The short environment variables deployments set, and the key each overrides. Every key
#: can also be set as CRM_<SECTION>__<KEY> (CRM_BUSINESS__CURRENCY_CODE=EUR); the short
#: names win over those, and both over the file.
ENV_OVERRIDES: Mapping[str, str] = {
    "DATABASE_URL": "database.url",
    "PUBLIC_URL": "server.public_url",
    "STRIPE_SECRET_KEY": "stripe.secret_key",
    "STRIPE_WEBHOOK_SECRET": "stripe.webhook_secret",
    "MAILJET_API_KEY": "mailjet.api_key",
    "MAILJET_API_SECRET": "mailjet.api_secret",
    "REDIS_URL": "workers.redis_url",
    "METRICS_TOKEN": "server.metrics_token",
    "LINK_SECRET": "links.secret",
    "CORS_ORIGINS": "server.cors_origins",
    "GRAPHIQL": "server.graphiql",
}
ENV_PREFIX = "CRM_"
ENV_NESTING = "__"

DEFAULT_CONFIG_FILE = "crm_config.yaml"


class _ShortNames(PydanticBaseSettingsSource):
    """ENV_OVERRIDES as a pydantic-settings source, read from the mapping it is given."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # answered whole by __call__

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for variable, key in ENV_OVERRIDES.items():
            if self.environ.get(variable):
                section, leaf = key.split(".")
                found.setdefault(section, {})[leaf] = self.environ[variable]
        return found


def _loader(path: Path | None, environ: Mapping[str, str]) -> type[BaseSettings]:
    """The settings class read from these sources, highest first: the short environment
    names, CRM_<SECTION>__<KEY> variables, the YAML file."""

    class FromSources(Settings, BaseSettings):
        model_config = SettingsConfigDict(
            extra="forbid",
            frozen=True,
            env_prefix=ENV_PREFIX,
            env_nested_delimiter=ENV_NESTING,
            nested_model_default_partial_update=True,
        )

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [
                init_settings,
                _ShortNames(settings_cls, environ),
                env_settings,
            ]
            if path is not None:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
            return tuple(sources)

    return FromSources


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the settings: `path`, else $CRM_CONFIG, else ./crm_config.yaml if present; the
    environment over the file (ENV_OVERRIDES from `environ`, CRM_* from the process)."""
    environ = os.environ if environ is None else environ
    chosen = path or environ.get("CRM_CONFIG")
    if chosen is None and Path(DEFAULT_CONFIG_FILE).is_file():
        chosen = DEFAULT_CONFIG_FILE
    source = str(chosen or "defaults")
    file = Path(chosen) if chosen else None
    if file is not None:
        _ensure_readable_mapping(file)
    try:
        loaded = _loader(file, environ)()
    except ValidationError as exc:
        raise ConfigError(_first_problem(source, exc)) from None
    # Validated again as the plain Settings every other part of the code compares and copies.
    return settings_from_mapping(loaded.model_dump(), source)


def settings_from_mapping(raw: Mapping[str, Any], source: str = "settings") -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_first_problem(source, exc)) from None


def _first_problem(source: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    return f"{source}: {key}: {first['msg']}"


def _ensure_readable_mapping(path: Path) -> None:
    """The errors a person can act on, before pydantic-settings reads the file: it cannot
    be read, is not YAML (and where), or is not a mapping of sections."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
