"""The invoice as its customer opens it from the email, without a token:

    GET /i/{link}                the invoice page (the same template as the PDF), with a
                                 download button and, while it is open, the pay link
    GET /i/{link}/pdf            its PDF
    GET /invoice-assets/{path}   the stylesheets and images the templates use

`link` is signed and expires (model/share_links.py). A link that was changed, has expired
or was signed with a secret since replaced gets a short page saying so (403), never data.
"""

from __future__ import annotations

import logging

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from domain.bootstrap import Runtime
from domain.errors import DomainError, ErrorCode
from domain.model.access import INVOICE_LINK
from domain.model.entities import Invoice
from domain.model.invoice_rules import is_credit_note, is_open
from domain.model.share_links import LinkRefused, verify
from domain.rendering.links import pay_url
from domain.rendering.screen import for_screen
from domain.store import deployment
from graph.http.pdfs import pdf_response

log = logging.getLogger("invoicing.links")

# The link is in the address: no page it leads to may learn it, no cache or robot keep it.
_PRIVATE = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
# The invoice page runs no script at all, and loads nothing from anywhere else.
_PAGE_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'none'"
)
_BANNER_STYLE = (
    "font: 14px/1.4 sans-serif; display: flex; gap: 12px; align-items: center;"
    " justify-content: flex-end; padding: 8px 0 16px;"
)
_BUTTON_STYLE = (
    "padding: 6px 14px; border-radius: 4px; text-decoration: none; border: 1px solid #2a5db0;"
)


async def _invoice_id(runtime: Runtime, link: str) -> int | Response:
    secret = await deployment.link_secret(runtime.db, runtime.settings)
    try:
        return verify(secret, link, runtime.clock.now())
    except LinkRefused as refused:
        log.info("refused an invoice link: %s", refused)
        return _notice(runtime, 403, "This link has expired or is not valid.")


def _notice(runtime: Runtime, status: int, what: str) -> HTMLResponse:
    business = runtime.settings.business
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Invoice</title></head>"
        "<body style='font: 16px/1.5 sans-serif; max-width: 36em; margin: 4em auto'>"
        f"<h1>{escape(what)}</h1><p>Ask {escape(business.name)} for a new one: "
        f"<a href='mailto:{escape(business.email)}'>{escape(business.email)}</a>.</p>"
        "</body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=_PRIVATE)


def _banner(runtime: Runtime, invoice: Invoice, link: str) -> str:
    pdf = f"{runtime.settings.server.base_url}/i/{link}/pdf"
    parts = [f"<a style='{_BUTTON_STYLE} color: #2a5db0' href='{escape(pdf)}'>Download PDF</a>"]
    if is_open(invoice) and not is_credit_note(invoice.total) and invoice.total > 0:
        pay = pay_url(runtime.settings, invoice.id, invoice.number)
        parts.append(
            f"<a style='{_BUTTON_STYLE} background: #2a5db0; color: #fff' "
            f"href='{escape(pay)}' rel='noreferrer'>Pay online</a>"
        )
    return f"<nav class='invoice-banner' style='{_BANNER_STYLE}'>{''.join(parts)}</nav>"


async def invoice_page(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    link = request.path_params["link"]
    invoice_id = await _invoice_id(runtime, link)
    if isinstance(invoice_id, Response):
        return invoice_id
    try:
        invoice, prepared = await runtime.pdfs.page(INVOICE_LINK, invoice_id)
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            return _notice(runtime, 404, "This invoice is no longer available.")
        return _notice(runtime, 503, "This invoice cannot be shown just now; try again later.")
    assets = f"{runtime.settings.server.base_url}/invoice-assets/"
    html = for_screen(prepared.html, assets, _banner(runtime, invoice, link))
    return HTMLResponse(html, headers={**_PRIVATE, "Content-Security-Policy": _PAGE_POLICY})


async def invoice_page_pdf(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    invoice_id = await _invoice_id(runtime, request.path_params["link"])
    if isinstance(invoice_id, Response):
        return invoice_id
    try:
        pdf = await runtime.pdfs.get(INVOICE_LINK, invoice_id)
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            return _notice(runtime, 404, "This invoice is no longer available.")
        return _notice(runtime, 503, "This invoice cannot be shown just now; try again later.")
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
