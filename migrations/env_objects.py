"""What autogenerate compares: everything but the indexes migrations make on purpose
outside the models (0005's FULLTEXT index, which SQLite cannot have)."""

from __future__ import annotations

from typing import Any

MIGRATION_ONLY_INDEXES = {"ix_invoices_title_fulltext"}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)
