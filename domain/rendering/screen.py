"""A rendered invoice page made for a browser: its assets fetched over HTTP from where the
caller serves them, the page laid out at A4 width, and an optional banner of the caller's
own (never data: callers escape what they put in it)."""

from __future__ import annotations

import re

_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
_BODY = re.compile(r"<body(\s[^>]*)?>", re.IGNORECASE)
_SCREEN_STYLE = (
    "<style>@media screen { body { width: 190mm; margin: 8px auto; } }"
    " @media print { .invoice-banner { display: none; } }</style>"
)


def for_screen(html: str, assets_href: str, banner: str = "") -> str:
    """`html` with `<base href=assets_href>` and the screen style first in its head, and
    `banner` first in its body."""
    head = f'<base href="{assets_href}">{_SCREEN_STYLE}'
    found = _HEAD.search(html)
    if found:
        html = html[: found.end()] + head + html[found.end() :]
    else:
        html = f"<head>{head}</head>" + html
    if banner:
        body = _BODY.search(html)
        at = body.end() if body else len(html)
        html = html[:at] + banner + html[at:]
    return html
