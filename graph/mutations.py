"""The Mutation root: input -> domain service -> payload. Each service call is one
database transaction; a refusal leaves the database as it was and fills `errors`."""

from __future__ import annotations

import strawberry

from domain import (
    billing,
    customers,
    invoice_email,
    invoice_lifecycle,
    payments,
    products,
    transactions,
)
from domain.customers import AddressData, ContactData, CustomerData
from domain.errors import DomainError, ErrorCode
from domain.models import Invoice
from domain.work_queue import BillingOrder
from graph.context import Context, Info
from graph.errors import UserError, attempt
from graph.ids import parse_id, require_id
from graph.types.customers import (
    ADDRESS_FIELDS,
    ContactInput,
    CustomerInput,
    CustomerPayload,
    CustomerType,
)
from graph.types.invoices import (
    BillingRunInput,
    BillingRunPayload,
    ClearPdfCachePayload,
    EmailInvoicePayload,
    GenerateInvoiceInput,
    InvoicePayload,
    InvoiceType,
    PayInvoiceInput,
)
from graph.types.products import ProductInput, ProductPayload, ProductType
from graph.types.transactions import (
    DeletePayload,
    TransactionInput,
    TransactionPayload,
    TransactionType,
    TransactionUpdateInput,
)


def _customer_data(given: CustomerInput) -> CustomerData:
    address = None
    if given.address is not None:
        address = AddressData(**{name: getattr(given.address, name) for name in ADDRESS_FIELDS})
    return CustomerData(name=given.name, language=given.language, address=address)


def _transaction_ids(given: list[strawberry.ID]) -> list[int]:
    ids = []
    for raw in given:
        parsed = parse_id(raw)
        if parsed is None:
            raise DomainError(
                ErrorCode.TRANSACTION_UNAVAILABLE,
                f"Transaction {str(raw)!r} does not exist.",
                "transaction_ids",
            )
        ids.append(parsed)
    return ids


async def _invoice_payload(
    ctx: Context, row: Invoice | None, errors: list[UserError]
) -> InvoicePayload:
    """The changed invoice; its new PDF starts rendering in the background."""
    if row is not None:
        await ctx.runtime.work.prerender([row.id])
    return InvoicePayload(invoice=InvoiceType.from_row(row, ctx) if row else None, errors=errors)


def _customer_payload(row: object, errors: list) -> CustomerPayload:
    return CustomerPayload(customer=CustomerType.from_row(row) if row else None, errors=errors)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_customer(self, info: Info, input: CustomerInput) -> CustomerPayload:
        ctx = info.context
        row, errors = await attempt(
            customers.create_customer(ctx.db, ctx.settings, ctx.viewer, _customer_data(input))
        )
        return _customer_payload(row, errors)

    @strawberry.mutation
    async def update_customer(
        self, info: Info, id: strawberry.ID, input: CustomerInput
    ) -> CustomerPayload:
        ctx = info.context

        async def run():
            customer_id = require_id(id, "Customer", "id")
            return await customers.update_customer(
                ctx.db, ctx.settings, ctx.viewer, customer_id, _customer_data(input)
            )

        return _customer_payload(*await attempt(run()))

    @strawberry.mutation
    async def add_contact(
        self, info: Info, customer_id: strawberry.ID, input: ContactInput
    ) -> CustomerPayload:
        ctx = info.context

        async def run():
            data = ContactData(name=input.name, email=input.email, type=input.type)
            return await customers.add_contact(
                ctx.db, ctx.viewer, require_id(customer_id, "Customer", "customer_id"), data
            )

        return _customer_payload(*await attempt(run()))

    @strawberry.mutation
    async def create_product(self, info: Info, input: ProductInput) -> ProductPayload:
        ctx = info.context
        data = products.ProductData(name=input.name, tax_percentage=input.tax_percentage)
        row, errors = await attempt(products.create_product(ctx.db, ctx.viewer, data))
        return ProductPayload(product=ProductType.from_row(row) if row else None, errors=errors)

    @strawberry.mutation
    async def create_transaction(self, info: Info, input: TransactionInput) -> TransactionPayload:
        ctx = info.context

        async def run():
            data = transactions.TransactionData(
                customer_id=require_id(input.customer_id, "Customer", "customer_id"),
                title=input.title,
                description=input.description,
                retail_cost=input.retail_cost,
                tax_percentage=input.tax_percentage,
                created_at=input.created_at,
                product_id=(
                    require_id(input.product_id, "Product", "product_id")
                    if input.product_id
                    else None
                ),
            )
            return await transactions.create_transaction(ctx.db, ctx.viewer, data)

        row, errors = await attempt(run())
        return TransactionPayload(
            transaction=TransactionType.from_row(row) if row else None, errors=errors
        )

    @strawberry.mutation(
        description="Only while the transaction is unbilled; otherwise code TRANSACTION_BILLED."
    )
    async def update_transaction(
        self, info: Info, id: strawberry.ID, input: TransactionUpdateInput
    ) -> TransactionPayload:
        ctx = info.context

        async def run():
            changes = transactions.TransactionChanges(
                title=input.title,
                description=input.description,
                retail_cost=input.retail_cost,
                tax_percentage=input.tax_percentage,
            )
            return await transactions.update_transaction(
                ctx.db, ctx.viewer, require_id(id, "Transaction", "id"), changes
            )

        row, errors = await attempt(run())
        return TransactionPayload(
            transaction=TransactionType.from_row(row) if row else None, errors=errors
        )

    @strawberry.mutation
    async def delete_transaction(self, info: Info, id: strawberry.ID) -> DeletePayload:
        ctx = info.context

        async def run():
            return await transactions.delete_transaction(
                ctx.db, ctx.viewer, require_id(id, "Transaction", "id")
            )

        deleted, errors = await attempt(run())
        return DeletePayload(
            deleted_id=strawberry.ID(str(deleted)) if deleted else None, errors=errors
        )

    @strawberry.mutation
    async def generate_invoice(self, info: Info, input: GenerateInvoiceInput) -> InvoicePayload:
        ctx = info.context

        async def run():
            request = billing.GenerateRequest(
                customer_id=require_id(input.customer_id, "Customer", "customer_id"),
                title=input.title,
                start_date=input.start_date,
                end_date=input.end_date,
                due_date=input.due_date,
                transaction_ids=_transaction_ids(input.transaction_ids)
                if input.transaction_ids is not None
                else None,
                excluded_transaction_ids=[
                    i for i in map(parse_id, input.excluded_transaction_ids) if i is not None
                ],
                idempotency_key=input.idempotency_key,
            )
            return await billing.generate_invoice(ctx.db, ctx.settings, ctx.viewer, request)

        return await _invoice_payload(ctx, *await attempt(run()))

    @strawberry.mutation
    async def void_invoice(self, info: Info, id: strawberry.ID) -> InvoicePayload:
        ctx = info.context

        async def run():
            return await invoice_lifecycle.void_invoice(
                ctx.db, ctx.viewer, require_id(id, "Invoice", "id")
            )

        return await _invoice_payload(ctx, *await attempt(run()))

    @strawberry.mutation
    async def pay_invoice(self, info: Info, input: PayInvoiceInput) -> InvoicePayload:
        ctx = info.context

        async def run():
            request = invoice_lifecycle.PaymentRequest(
                invoice_id=require_id(input.invoice_id, "Invoice", "invoice_id"),
                method=input.method,
                reference=input.reference,
                payment_method_id=parse_id(input.payment_method_id)
                if input.payment_method_id
                else None,
                idempotency_key=input.idempotency_key,
            )
            return await payments.pay(ctx.db, ctx.settings, ctx.viewer, request, ctx.runtime.cards)

        return await _invoice_payload(ctx, *await attempt(run()))

    @strawberry.mutation(
        description="Automatic billing: one invoice per customer with unbilled transactions in the period."
    )
    async def run_billing(self, info: Info, input: BillingRunInput) -> BillingRunPayload:
        ctx = info.context

        async def run():
            customer_ids = None
            if input.customer_ids is not None:
                customer_ids = [
                    require_id(raw, "Customer", "customer_ids") for raw in input.customer_ids
                ]
            order = BillingOrder(input.start_date, input.end_date, input.due_date, ctx.viewer)
            return await ctx.runtime.work.run_billing(order, customer_ids)

        result, errors = await attempt(run())
        if result is None:
            return BillingRunPayload(invoices=[], skipped_customer_ids=[], errors=errors)
        failures = [
            UserError(
                code=error.code,
                message=f"Customer {customer_id}: {error.message}",
                field="customerIds",
            )
            for customer_id, error in result.failures
        ]
        return BillingRunPayload(
            invoices=[InvoiceType.from_row(row, ctx) for row in result.invoices],
            skipped_customer_ids=[strawberry.ID(str(i)) for i in result.skipped_customer_ids],
            errors=failures,
        )

    @strawberry.mutation(
        description="Drops cached PDFs: of one invoice, or all of them when invoiceId is null."
    )
    async def clear_invoice_pdf_cache(
        self, info: Info, invoice_id: strawberry.ID | None = None
    ) -> ClearPdfCachePayload:
        ctx = info.context

        async def run():
            wanted = (
                require_id(invoice_id, "Invoice", "invoice_id") if invoice_id is not None else None
            )
            return await ctx.runtime.pdfs.clear(ctx.viewer, wanted)

        cleared, errors = await attempt(run())
        return ClearPdfCachePayload(cleared=cleared or 0, errors=errors)

    @strawberry.mutation(
        description="Saves a card that already exists at Stripe (looked up there) as a payment method of the customer."
    )
    async def attach_payment_method(
        self,
        info: Info,
        customer_id: strawberry.ID,
        stripe_payment_method_id: str,
        make_default: bool = False,
    ) -> CustomerPayload:
        ctx = info.context

        async def run():
            return await payments.attach_payment_method(
                ctx.db,
                ctx.viewer,
                require_id(customer_id, "Customer", "customer_id"),
                stripe_payment_method_id,
                make_default,
                ctx.runtime.cards,
            )

        return _customer_payload(*await attempt(run()))

    @strawberry.mutation
    async def refund_invoice(self, info: Info, id: strawberry.ID) -> InvoicePayload:
        ctx = info.context

        async def run():
            return await payments.refund_invoice(
                ctx.db, ctx.viewer, require_id(id, "Invoice", "id"), ctx.runtime.cards
            )

        return await _invoice_payload(ctx, *await attempt(run()))

    @strawberry.mutation
    async def email_invoice(self, info: Info, id: strawberry.ID) -> EmailInvoicePayload:
        ctx = info.context

        async def run():
            return await invoice_email.email_invoice(
                ctx.db,
                ctx.settings,
                ctx.viewer,
                require_id(id, "Invoice", "id"),
                ctx.runtime.pdfs,
                ctx.runtime.mail,
            )

        sent, errors = await attempt(run())
        if sent is None:
            return EmailInvoicePayload(invoice=None, recipients=[], errors=errors)
        invoice, recipients = sent
        return EmailInvoicePayload(
            invoice=InvoiceType.from_row(invoice, ctx), recipients=recipients, errors=[]
        )
