"""What an API bearer token looks like, and how it is kept: only its SHA-256.

Tokens are random and long (32 bytes), so a slow hash would add nothing."""

from __future__ import annotations

import hashlib

TOKEN_PREFIX = "inv_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
