"""GET /crm/invoice/{id}/pdf, GET /crm/invoice/{id}/ubl (its UBL e-invoice) and the draft
PDF of an invoice preview."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.bootstrap import Runtime
from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer
from domain.model.einvoice import Syntax
from domain.model.pdfs import InvoicePdf
from domain.queries.billing_preview import preview_document, preview_invoice
from graph.http.auth import viewer_or_refusal
from graph.http.transport import json_error
from graph.ids import parse_id
from graph.scalars import parse_date


def _error(status: int, code: str, message: str) -> JSONResponse:
    return json_error(status, code, message)


def _from_domain(error: DomainError) -> JSONResponse:
    if error.code is ErrorCode.NOT_FOUND:
        return _error(404, error.code.value, error.message)
    if error.code in (ErrorCode.PDF_RENDER_FAILED, ErrorCode.EINVOICE_INVALID):
        return _error(422, error.code.value, error.message)
    if error.code is ErrorCode.ALREADY_VOID:
        return _error(409, error.code.value, error.message)
    if error.code is ErrorCode.EINVOICE_UNAVAILABLE:
        return _error(503, error.code.value, error.message)
    if error.code is ErrorCode.TOO_MANY_REQUESTS:
        response = _error(429, error.code.value, error.message)
        response.headers["Retry-After"] = "5"
        return response
    return _error(400, error.code.value, error.message)


def download(
    request: Request,
    data: bytes,
    sha256: str,
    filename: str,
    media_type: str,
    headers: Mapping[str, str],
) -> Response:
    """A file as a download, or 304 when the client holds it already (its ETag, or `*`)."""
    etag = f'"{sha256}"'
    answer = {"ETag": etag, "Cache-Control": "private, no-cache", **headers}
    held = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    if etag in held or "*" in held:
        return Response(status_code=304, headers=answer)
    answer["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(data, media_type=media_type, headers=answer)


def pdf_response(
    request: Request, pdf: InvoicePdf, extra_headers: Mapping[str, str] | None = None
) -> Response:
    headers = {"X-Cache": "HIT" if pdf.hit else "MISS", **(extra_headers or {})}
    return download(request, pdf.data, pdf.sha256, pdf.filename, "application/pdf", headers)


async def _asked_for(request: Request) -> tuple[Runtime, Viewer, int] | Response:
    """Who asks for which invoice's file, or the refusal (401 without a token, 404 for an
    id that cannot be ours)."""
    viewer = await viewer_or_refusal(request)
    if isinstance(viewer, Response):
        return viewer
    invoice_id = parse_id(request.path_params["invoice_id"])
    if invoice_id is None:
        return _error(404, "NOT_FOUND", "No such invoice.")
    return request.app.state.runtime, viewer, invoice_id


async def invoice_pdf(request: Request) -> Response:
    asked = await _asked_for(request)
    if isinstance(asked, Response):
        return asked
    runtime, viewer, invoice_id = asked
    try:
        pdf = await runtime.pdfs.get(viewer, invoice_id)
    except DomainError as error:
        return _from_domain(error)
    return pdf_response(request, pdf)


async def invoice_ubl(request: Request) -> Response:
    """The invoice's UBL e-invoice (Peppol BIS Billing 3.0), with the same auth as its PDF."""
    asked = await _asked_for(request)
    if isinstance(asked, Response):
        return asked
    runtime, viewer, invoice_id = asked
    try:
        ubl = await runtime.einvoices.file(viewer, invoice_id, Syntax.UBL)
    except DomainError as error:
        return _from_domain(error)
    return download(request, ubl.data, ubl.sha256, ubl.filename, "application/xml", {})


async def draft_pdf(request: Request) -> Response:
    """The DRAFT PDF of exactly what generateInvoice would bill for these preview inputs."""
    viewer = await viewer_or_refusal(request)
    if isinstance(viewer, Response):
        return viewer
    runtime: Runtime = request.app.state.runtime
    params = request.query_params
    customer_id = parse_id(params.get("customerId"))
    try:
        start = parse_date(params["startDate"]) if params.get("startDate") else None
        end = parse_date(params["endDate"]) if params.get("endDate") else None
    except ValueError as error:
        return _error(400, "INVALID_INPUT", f"startDate and endDate: {error}.")
    excluded = [
        i
        for i in map(parse_id, params.get("excludedTransactionIds", "").split(","))
        if i is not None
    ]
    if customer_id is None:
        return _error(404, "NOT_FOUND", "No such customer.")
    try:
        preview = await preview_invoice(
            runtime.db, runtime.settings, viewer, customer_id, start, end, excluded
        )
        data = await runtime.pdfs.draft(
            viewer, preview_document(runtime.db, runtime.settings, preview)
        )
    except DomainError as error:
        return _from_domain(error)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="Invoice_DRAFT.pdf"'},
    )
