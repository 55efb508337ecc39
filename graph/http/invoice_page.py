"""The invoice as its customer opens it from the email, without a token:

    GET /i/{link}                the invoice page (the same template as the PDF), with a
                                 download button and, while it is open, the pay link
    GET /i/{link}/pdf            its PDF
    GET /invoice-assets/{path}   the stylesheets and images the templates use

`link` is signed and expires (model/share_links.py). A link that was changed, has expired
or was signed with a secret since replaced gets a short page saying so (403), never data.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from domain.bootstrap import Runtime
from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.access import INVOICE_LINK
from domain.model.entities import Customer, Installment, Invoice
from domain.model.enums import InvoiceStatus
from domain.model.formatting import Formatter
from domain.model.invoice_rules import is_credit_note, is_open
from domain.model.payments import amount_due, asked_online, installment_left, next_installment
from domain.model.share_links import LinkRefused, verify
from domain.model.texts import text
from domain.rendering.links import pay_url
from domain.rendering.screen import for_screen
from domain.services.payments.checkout import open_checkout
from domain.store import deployment
from domain.store.payments import installments_of
from graph.http.pdfs import pdf_response

log = logging.getLogger("invoicing.links")

# The link is in the address: no page it leads to may learn it, no cache or robot keep it.
_PRIVATE = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


# The invoice page runs no script at all, and loads nothing from anywhere else; its one
# form (the pay button) posts to the page itself, which sends the browser on to the
# payment provider's page only.
def _page_policy(settings: Settings) -> str:
    return (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; "
        f"form-action 'self' {settings.stripe.checkout_origin}"
    )


_BANNER_STYLE = (
    "font: 14px/1.4 sans-serif; display: flex; gap: 12px; align-items: center;"
    " justify-content: flex-end; padding: 8px 24px 16px;"
)
_BUTTON_STYLE = (
    "padding: 6px 14px; border-radius: 4px; text-decoration: none; border: 1px solid #2a5db0;"
    " white-space: nowrap;"
)


async def _opened(runtime: Runtime, request: Request, link: str) -> tuple[int, str] | Response:
    """The invoice the link opens, and the secret it was checked with (which also signs
    the page's pay form); or the page saying the link opens nothing."""
    secret = await deployment.link_secret(runtime.db, runtime.settings)
    try:
        return verify(secret, link, runtime.clock.now()), secret
    except LinkRefused as refused:
        log.info("refused an invoice link: %s", refused)
        return _notice(runtime, request, 403, "page_expired")


def _visitor_language(runtime: Runtime, request: Request) -> str:
    """For a page with no invoice to go by (a refused link): the browser's first language
    among those the business writes in."""
    business = runtime.settings.business
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in business.languages:
            return tag
    return business.default_language


def _notice(runtime: Runtime, request: Request, status: int, what: str) -> HTMLResponse:
    business = runtime.settings.business
    language = _visitor_language(runtime, request)
    body = (
        f"<!doctype html><html lang='{escape(language)}'><head><meta charset='utf-8'>"
        "<title>Invoice</title></head>"
        "<body style='font: 16px/1.5 sans-serif; max-width: 36em; margin: 4em auto'>"
        f"<h1>{escape(text(language, what))}</h1>"
        f"<p>{escape(text(language, 'page_ask', business=business.name))} "
        f"<a href='mailto:{escape(business.email)}'>{escape(business.email)}</a>.</p>"
        "</body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=_PRIVATE)


def _banner(
    runtime: Runtime,
    invoice: Invoice,
    customer: Customer,
    link: str,
    secret: str,
    returned: str = "",
    installments: Sequence[Installment] = (),
) -> str:
    """Above the invoice, in its customer's language: the download, and what the invoice
    asks of the customer now (what is due and how to pay it, or that it is paid)."""
    settings = runtime.settings
    business = settings.business
    language = (
        customer.language if customer.language in business.languages else business.default_language
    )
    say = Formatter.of(business, language, invoice.currency)
    pdf = f"{settings.server.base_url}/i/{link}/pdf"
    parts = [
        f"<a style='{_BUTTON_STYLE} color: #2a5db0' href='{escape(pdf)}'>"
        f"{escape(text(language, 'page_download'))}</a>"
    ]
    if is_credit_note(invoice.total):
        state = text(language, "page_credit", amount=say.money(-invoice.total))
    elif invoice.void:
        state = text(language, "page_void")
    elif invoice.status is InvoiceStatus.REFUNDED:
        state = text(language, "page_refunded")
    elif invoice.status is InvoiceStatus.PAID and invoice.paid_at is not None:
        paid = say.long_date(invoice.paid_at.astimezone(business.zone))
        state = text(language, "page_paid", date=paid)
    elif returned == "done":
        state = text(language, "page_processing")  # back from the provider; its webhook follows
    else:
        owed = amount_due(invoice)
        due = text(
            language, "page_due", amount=say.money(owed), due=say.long_date(invoice.due_date)
        )
        if invoice.amount_paid:
            due = f"{text(language, 'page_part_paid', paid=say.money(invoice.amount_paid))} {due}"
        upcoming = next_installment(installments)
        if upcoming is not None:
            due += " " + text(
                language,
                "page_installment",
                amount=say.money(installment_left(upcoming)),
                due=say.long_date(upcoming.due_date),
            )
        if settings.invoice.pay_url_template:
            # A CRM with its own portal takes the payment there.
            state = due
            if _payable(invoice):
                today = runtime.clock.now().date()
                pay = pay_url(settings, secret, invoice.id, invoice.number, invoice.due_date, today)
                label = text(language, "page_pay")
                parts.append(
                    f"<a style='{_BUTTON_STYLE} background: #2a5db0; color: #fff' "
                    f"href='{escape(pay)}' rel='noreferrer'>{escape(label)}</a>"
                )
        else:
            # This page is the pay page: the bank transfer, and with Stripe the pay button.
            state = f"{due} {_how_to_pay(settings, language, invoice)}"
            if settings.stripe.configured and _payable(invoice):
                asked = asked_online(invoice, installments, everything=False)
                buttons = [("", text(language, "page_pay_amount", amount=say.money(asked)))]
                if asked != owed:  # the next installment, or everything at once
                    buttons.append(("all", text(language, "page_pay_all", amount=say.money(owed))))
                parts.append(
                    f"<form method='post' action='{escape(_pay_action(settings, link))}' "
                    "style='margin: 0; display: flex; gap: 0.5em'>"
                    f"<input type='hidden' name='token' value='{escape(_form_token(secret, link))}'>"
                    + "".join(
                        f"<button type='submit' name='what' value='{what}' "
                        f"style='{_BUTTON_STYLE} background: #2a5db0; color: #fff; "
                        f"cursor: pointer'>{escape(label)}</button>"
                        for what, label in buttons
                    )
                    + "</form>"
                )
    return (
        f"<nav class='invoice-banner' style='{_BANNER_STYLE}' lang='{escape(language)}'>"
        f"<span class='invoice-state' style='margin-right: auto'>{escape(state)}</span>"
        f"{''.join(parts)}</nav>"
    )


def _how_to_pay(settings: Settings, language: str, invoice: Invoice) -> str:
    """The bank transfer details from business.seller.bank, where there are any."""
    bank = settings.business.seller.bank
    if not bank.account_id:
        return ""
    name = bank.account_name or settings.business.seller.legal_name
    return text(
        language,
        "page_transfer",
        name=name,
        account=bank.account_id,
        bank=f" ({bank.bank_id})" if bank.bank_id else "",
        number=invoice.number or "",
    )


def _pay_action(settings: Settings, link: str) -> str:
    return f"{settings.server.base_url}/i/{link}/pay"


def _form_token(secret: str, link: str) -> str:
    """What the pay form carries: only a page this service served can post it."""
    return hmac.new(secret.encode(), f"pay-form:{link}".encode(), hashlib.sha256).hexdigest()


def _cross_site(request: Request, settings: Settings) -> bool:
    """A post sent by another site's page (the browser says so), not by the invoice page."""
    origin = request.headers.get("origin")
    ours = urlsplit(settings.server.base_url)
    # "null": the page's Referrer-Policy (no-referrer) makes browsers hide even our own
    # origin; Sec-Fetch-Site still tells.
    if origin and origin != "null" and origin != f"{ours.scheme}://{ours.netloc}":
        return True
    return request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


async def invoice_page_pay(request: Request) -> Response:
    """The page's pay button: a checkout at the payment provider for what is due now, and
    the browser sent there (303); a second press while it is open goes to the same one."""
    runtime: Runtime = request.app.state.runtime
    link = request.path_params["link"]
    opened = await _opened(runtime, request, link)
    if isinstance(opened, Response):
        return opened
    invoice_id, secret = opened
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0]
    if _cross_site(request, runtime.settings) or not hmac.compare_digest(
        token, _form_token(secret, link)
    ):
        return _notice(runtime, request, 403, "page_expired")
    page = f"{runtime.settings.server.base_url}/i/{link}"
    everything = (form.get("what") or [""])[0] == "all"
    try:
        url = await open_checkout(
            runtime.db, runtime.settings, runtime.cards, invoice_id, page, everything
        )
    except DomainError as refused:
        # Paid meanwhile, or the provider away: back to the page, which says where it stands.
        log.info("invoice %s: no checkout: %s", invoice_id, refused.message)
        if refused.code is ErrorCode.PAYMENT_PROVIDER_ERROR:
            return _notice(runtime, request, 503, "page_cannot_pay")
        return RedirectResponse(page, status_code=303, headers=_PRIVATE)
    return RedirectResponse(url, status_code=303, headers=_PRIVATE)


def _payable(invoice: Invoice) -> bool:
    return is_open(invoice) and not is_credit_note(invoice.total) and invoice.total > 0


async def invoice_page(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    link = request.path_params["link"]
    opened = await _opened(runtime, request, link)
    if isinstance(opened, Response):
        return opened
    invoice_id, secret = opened
    try:
        invoice, prepared = await runtime.pdfs.page(INVOICE_LINK, invoice_id)
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            return _notice(runtime, request, 404, "page_gone")
        return _notice(runtime, request, 503, "page_unavailable")
    async with runtime.db.read() as session:
        customer = await session.get(Customer, invoice.customer_id)
        plan = await installments_of(session, invoice.id) if is_open(invoice) else []
    assert customer is not None  # a foreign key guarantees it
    assets = f"{runtime.settings.server.base_url}/invoice-assets/"
    returned = request.query_params.get("checkout", "")
    banner = _banner(runtime, invoice, customer, link, secret, returned, plan)
    html = for_screen(prepared.html, assets, banner)
    policy = _page_policy(runtime.settings)
    return HTMLResponse(html, headers={**_PRIVATE, "Content-Security-Policy": policy})


async def invoice_page_pdf(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    opened = await _opened(runtime, request, request.path_params["link"])
    if isinstance(opened, Response):
        return opened
    invoice_id, _ = opened
    try:
        pdf = await runtime.pdfs.get(INVOICE_LINK, invoice_id)
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            return _notice(runtime, request, 404, "page_gone")
        return _notice(runtime, request, 503, "page_unavailable")
    return pdf_response(request, pdf, extra_headers=_PRIVATE)


async def invoice_asset(request: Request) -> Response:
    """Only the files the templates use as assets (CSS, images, fonts), nothing else of
    the template folder."""
    runtime: Runtime = request.app.state.runtime
    templates = runtime.pdfs.documents.templates
    wanted = request.path_params["path"]
    if wanted not in templates.shared_assets():
        return Response("Not found", status_code=404)
    return FileResponse(
        templates.directory / wanted, headers={"Cache-Control": "public, max-age=300"}
    )
