"""GraphQL IDs are strings; the database's are integers."""

from __future__ import annotations

import strawberry

from domain.errors import NotFound
from domain.model.ids import outside_id


def parse_id(value: strawberry.ID | str | None) -> int | None:
    """The integer behind an ID, or None for anything that cannot be one of ours."""
    return None if value is None else outside_id(str(value))


def require_id(value: strawberry.ID | str, what: str, field: str) -> int:
    """Like parse_id, but an impossible ID is reported as the missing object it names."""
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound(what, repr(str(value)), field)
    return parsed
