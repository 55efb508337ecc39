"""The business of customer invoices, with no GraphQL and no HTTP in it.

Read it by layer, top to bottom; each imports only the layers below it (import-linter
checks this in `make lint`):

    bootstrap.py    wiring: picks the adapters from the settings into a Runtime
    worker.py       the work queue's jobs: bill one customer, render one PDF
    services/       the write side, one module per area, one function per command
    queries/        the read side: lists, search, stats, previews, batch loaders
    rendering/      document -> HTML -> PDF, shared by the API, email and the preview server
    store/          the database (unit of work), idempotency, history, summaries, PDF cache rows
    model/          entities, values and rules; no sessions, no I/O
    ports.py        the small interfaces the services need from the outside world
    adapters/       their implementations: the only modules that import a vendor SDK
    ops/            migrations and demo data
    config.py       settings; errors.py: the business refusals

A card payment, followed by file names: graph/invoices/mutations.py -> services/payments/
(charge.py pay_by_card) -> store/idempotency.py -> model/invoice_rules.py (ensure_payable) ->
ports.py (CardGateway) -> adapters/stripe_gateway.py. docs/architecture.md walks it.
"""
