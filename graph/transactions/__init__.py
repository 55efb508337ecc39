"""Transactions: the charges invoices bill, and the payments and refunds that settle them."""
