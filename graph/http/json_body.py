"""Request bodies as JSON, refused with 400 when they are not JSON a client could mean."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException

# Our deepest input is three levels (a customer's address inside its input, inside the
# variables); nothing a real client sends comes near this.
MAX_JSON_DEPTH = 32


def decode_request_json(data: str | bytes) -> Any:
    """The parsed body; 400 for malformed or too deeply nested JSON (Python's parser
    would otherwise run out of stack on '[[[[…' and answer 500)."""
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "The request body is not valid JSON.") from None
    except RecursionError:
        raise HTTPException(400, _too_deep()) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise HTTPException(400, _too_deep())
    if not isinstance(value, dict) and not (
        isinstance(value, list) and all(isinstance(item, dict) for item in value)
    ):
        raise HTTPException(
            400, "The request body must be a JSON object, or a list of them (a batch)."
        )
    return value


def _too_deep() -> str:
    return f"The request body nests deeper than {MAX_JSON_DEPTH} levels."


def _depth(value: Any) -> int:
    """How deep lists and objects nest in `value` (walked without recursion)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            pending.extend((child, level + 1) for child in item)
    return deepest
