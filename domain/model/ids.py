"""Ids that arrive from outside (GraphQL IDs, URL paths, a provider's webhook metadata):
whole numbers our tables can hold, or nothing. A 24-digit id must be "no such thing", not a
database error (SQLite's integers end at 2**63 - 1)."""

from __future__ import annotations

MAX_ID = 2**63 - 1


def outside_id(value: object) -> int | None:
    """The id `value` names, or None if it cannot name a row of ours."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        # isdigit() alone admits "³" and other digits int() refuses.
        if not (text.isascii() and text.isdigit()) or len(text) > 19:
            return None
        number = int(text)
    else:
        return None
    return number if 0 < number <= MAX_ID else None
