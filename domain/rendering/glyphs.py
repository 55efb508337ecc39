"""Text that would print as empty boxes: which fields of a document no installed font draws.

One wording for the template check (`invoicing templates check`, the preview server) and the
warning a production render logs."""

from __future__ import annotations

from collections.abc import Mapping

from domain.ports import GlyphCoverage


def unprintable(glyphs: GlyphCoverage, texts: Mapping[str, str]) -> list[str]:
    """One finding per field whose text holds characters no font draws, naming them."""
    found = []
    for field, text in texts.items():
        missing = glyphs.missing(text)
        if missing:
            points = " ".join(f"U+{ord(c):04X}" for c in missing)
            found.append(f"{field}: no installed font draws {missing!r} ({points})")
    return found
