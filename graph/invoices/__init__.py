"""Invoices: lists, details, stats, previews, and everything that happens to an invoice
(generate, void, pay, refund, email, billing runs, the PDF cache)."""
