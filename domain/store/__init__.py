"""Persistence the services share: the database and its unit of work, idempotency, row
locks, invoice history, the stats summary, the PDF cache's rows and paging."""
