"""The write side: one module per area, one function per command, each named like the
mutation or command-line command it serves. Every command is one unit of work
(store/database.py); a DomainError it raises leaves the database as it was."""
