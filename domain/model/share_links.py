"""Invoice links a customer opens without a token: the invoice id and an expiry, signed.

A link is `<invoice id>.<expiry, Unix seconds>.<HMAC-SHA256 of both, base64url>`. Changing
a digit of either breaks the signature; a link past its expiry is refused even when its
signature holds; a new secret refuses every link signed with the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime

_PURPOSE = b"invoice-view"
_LINK = re.compile(r"([0-9]{1,18})\.([0-9]{1,11})\.([A-Za-z0-9_-]{43})")


class LinkRefused(Exception):
    """Not a link we signed (tampered, or signed with a secret since replaced), or expired."""


def _mac(secret: str, invoice_id: int, expires: int) -> str:
    message = b"%s:%d:%d" % (_PURPOSE, invoice_id, expires)
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, invoice_id: int, expires_at: datetime) -> str:
    expires = int(expires_at.timestamp())
    return f"{invoice_id}.{expires}.{_mac(secret, invoice_id, expires)}"


def verify(secret: str, link: str, now: datetime) -> int:
    """The invoice id the link names; LinkRefused when it is not ours or has expired."""
    found = _LINK.fullmatch(link)
    if found is None:
        raise LinkRefused("not an invoice link")
    invoice_id, expires = int(found.group(1)), int(found.group(2))
    if not hmac.compare_digest(found.group(3), _mac(secret, invoice_id, expires)):
        raise LinkRefused("not an invoice link")
    if datetime.fromtimestamp(expires, UTC) <= now:
        raise LinkRefused("expired")
    return invoice_id
