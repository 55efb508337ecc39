"""generateInvoice, voidInvoice, payInvoice, refundInvoice, createPaymentPlan,
cancelPaymentPlan, emailInvoice, runBilling, clearInvoicePdfCache: input -> domain service -> payload. Each service call is one
database transaction; a refusal leaves the database as it was and fills `errors`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry

from domain.model.commands import BillingOrder, PaymentRequest, RefundRequest
from domain.model.entities import Invoice
from domain.services import billing, invoice_email, payments, voiding
from domain.services.payments import plans, refund
from graph.context import Context, Info
from graph.errors import payload
from graph.ids import require_id
from graph.invoices.inputs import (
    BillingRunInput,
    GenerateInvoiceInput,
    InstallmentInput,
    PayInvoiceInput,
)
from graph.invoices.payloads import (
    BillingRunPayload,
    ClearPdfCachePayload,
    EmailInvoicePayload,
    InvoicePayload,
)


async def _changed(ctx: Context, change: Awaitable[Invoice]) -> Invoice:
    """The changed invoice; its new PDF starts rendering in the background."""
    invoice = await change
    await ctx.runtime.work.prerender([invoice.id])
    return invoice


async def _paid(ctx: Context, request: PaymentRequest) -> Invoice:
    with ctx.runtime.metrics.outcomes("payment", method=request.method.value):
        return await payments.pay(
            ctx.db, ctx.settings, ctx.viewer, request, ctx.runtime.cards, ctx.runtime.metrics
        )


async def _emailed(ctx: Context, invoice_id: int) -> tuple[Invoice, list[str]]:
    with ctx.runtime.metrics.outcomes("email"):
        return await invoice_email.email_invoice(
            ctx.db, ctx.settings, ctx.viewer, invoice_id, ctx.runtime.pdfs, ctx.runtime.mail
        )


@strawberry.type
class InvoiceMutations:
    @strawberry.mutation
    async def generate_invoice(self, info: Info, input: GenerateInvoiceInput) -> InvoicePayload:
        ctx = info.context
        return await payload(
            lambda: _changed(
                ctx, billing.generate_invoice(ctx.db, ctx.settings, ctx.viewer, input.to_domain())
            ),
            InvoicePayload.answer(ctx),
        )

    @strawberry.mutation
    async def void_invoice(self, info: Info, id: strawberry.ID) -> InvoicePayload:
        ctx = info.context
        return await payload(
            lambda: _changed(
                ctx, voiding.void_invoice(ctx.db, ctx.viewer, require_id(id, "Invoice", "id"))
            ),
            InvoicePayload.answer(ctx),
        )

    @strawberry.mutation
    async def pay_invoice(self, info: Info, input: PayInvoiceInput) -> InvoicePayload:
        ctx = info.context
        return await payload(
            lambda: _changed(ctx, _paid(ctx, input.to_domain())), InvoicePayload.answer(ctx)
        )

    @strawberry.mutation
    async def refund_invoice(
        self,
        info: Info,
        id: strawberry.ID,
        idempotency_key: Annotated[
            str | None,
            strawberry.argument(
                description="Repeating a request with the same key returns the first result."
            ),
        ] = None,
        payment_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The card payment to give back the rest of (Invoice.payments); default: the latest with money left."
            ),
        ] = None,
    ) -> InvoicePayload:
        ctx = info.context
        return await payload(
            lambda: _changed(
                ctx,
                refund.refund_invoice(
                    ctx.db,
                    ctx.settings,
                    ctx.viewer,
                    RefundRequest(
                        require_id(id, "Invoice", "id"),
                        idempotency_key,
                        require_id(payment_id, "Payment", "payment_id")
                        if payment_id is not None
                        else None,
                    ),
                    ctx.runtime.cards,
                    ctx.runtime.metrics,
                ),
            ),
            InvoicePayload.answer(ctx),
        )

    @strawberry.mutation(
        description="Split what an invoice has due into installments (amounts adding up to amountDue, due dates increasing from today); staff only, one plan per invoice."
    )
    async def create_payment_plan(
        self, info: Info, invoice_id: strawberry.ID, installments: list[InstallmentInput]
    ) -> InvoicePayload:
        ctx = info.context
        return await payload(
            lambda: _changed(
                ctx,
                plans.create_payment_plan(
                    ctx.db,
                    ctx.settings,
                    ctx.viewer,
                    require_id(invoice_id, "Invoice", "invoice_id"),
                    [part.to_domain() for part in installments],
                ),
            ),
            InvoicePayload.answer(ctx),
        )

    @strawberry.mutation(
        description="Drop an invoice's payment plan: what is left is due on its own due date again; payments made stay."
    )
    async def cancel_payment_plan(self, info: Info, invoice_id: strawberry.ID) -> InvoicePayload:
        ctx = info.context
        return await payload(
            lambda: _changed(
                ctx,
                plans.cancel_payment_plan(
                    ctx.db, ctx.viewer, require_id(invoice_id, "Invoice", "invoice_id")
                ),
            ),
            InvoicePayload.answer(ctx),
        )

    @strawberry.mutation
    async def email_invoice(self, info: Info, id: strawberry.ID) -> EmailInvoicePayload:
        ctx = info.context
        return await payload(
            lambda: _emailed(ctx, require_id(id, "Invoice", "id")), EmailInvoicePayload.answer(ctx)
        )

    @strawberry.mutation(
        description="Automatic billing: one invoice per customer with unbilled transactions in the period."
    )
    async def run_billing(self, info: Info, input: BillingRunInput) -> BillingRunPayload:
        ctx = info.context
        order = BillingOrder(input.start_date, input.end_date, input.due_date, ctx.viewer)
        return await payload(
            lambda: billing.run_billing(
                ctx.db, ctx.settings, order, ctx.runtime.work, input.chosen_customers()
            ),
            BillingRunPayload.answer(ctx),
        )

    @strawberry.mutation(
        description="Drops cached PDFs: of one invoice, or all of them when invoiceId is null."
    )
    async def clear_invoice_pdf_cache(
        self, info: Info, invoice_id: strawberry.ID | None = None
    ) -> ClearPdfCachePayload:
        ctx = info.context
        return await payload(
            lambda: ctx.runtime.pdfs.clear(
                ctx.viewer,
                require_id(invoice_id, "Invoice", "invoice_id") if invoice_id is not None else None,
            ),
            ClearPdfCachePayload.of,
        )
