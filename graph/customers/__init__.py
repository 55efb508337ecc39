"""Customers, their contacts and saved cards."""
