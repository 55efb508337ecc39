"""What "the same text" means to a search box: case and accents do not matter.

"Café", "CAFÉ" and "cafe" fold to "cafe". MariaDB's utf8mb4_unicode_ci collation compares
text this way by itself; SQLite is given `fold` as an SQL function (store/text_search.py),
so a search finds the same rows on both."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower case, accents and other combining marks dropped (ñ -> n, ü -> u)."""
    if text.isascii():  # most names and titles: nothing to decompose
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# Longer words are kept by their start: a search types a prefix of them anyway.
WORD_LENGTH = 64
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words a search finds a text by, folded, each once, in order: "Mobile services -
    March 2024" -> ["mobile", "services", "march", "2024"]."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        seen.setdefault(word[:WORD_LENGTH], None)
    return list(seen)
