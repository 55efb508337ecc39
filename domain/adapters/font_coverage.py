"""The GlyphCoverage port: which characters the fonts on this machine can draw.

WeasyPrint draws text through Pango, which falls back from the fonts a template names to
any font fontconfig knows: a character none of them holds prints as an empty box (the
.notdef glyph). So the characters covered are those of every font fontconfig lists (read
from fontconfig's own charsets, which it keeps cached) and of the font files shipped in
the template folder (read with fontTools). Marks that are never drawn on their own
(joiners, variation selectors, other format characters) and spaces are not asked for.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import unicodedata
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]

log = logging.getLogger("invoicing.fonts")

_FONT_FILES = ("*.ttf", "*.otf", "*.ttc", "*.otc", "*.woff", "*.woff2")


def _system_code_points() -> set[int]:
    if shutil.which("fc-list") is None:
        log.warning("fc-list is not installed: glyph coverage cannot be checked")
        return set()
    listed = subprocess.run(
        ["fc-list", "--format", "%{charset}\n"], capture_output=True, text=True, check=False
    ).stdout
    ranges = {part for line in listed.splitlines() for part in line.split()}
    covered: set[int] = set()
    for part in ranges:
        first, _, last = part.partition("-")
        covered.update(range(int(first, 16), int(last or first, 16) + 1))
    return covered


def _file_code_points(path: Path) -> set[int]:
    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            fonts = TTCollection(str(path), lazy=True).fonts
        else:
            fonts = [TTFont(str(path), lazy=True)]
        return {point for font in fonts for point in (font.getBestCmap() or {})}
    except Exception as error:  # a file that is not a font: it draws nothing
        log.warning("cannot read font %s: %s", path, error)
        return set()


def _drawn(character: str) -> bool:
    """Whether a character needs a glyph of its own."""
    return not (character.isspace() or unicodedata.category(character) in ("Cc", "Cf", "Mn"))


class InstalledFonts:
    """Coverage of the system's fonts and of those shipped in `template_dir`, read once."""

    def __init__(self, template_dir: str | Path | None = None) -> None:
        self.template_dir = Path(template_dir) if template_dir else None
        self._covered: set[int] | None = None
        self._lock = threading.Lock()

    def _code_points(self) -> set[int]:
        with self._lock:
            if self._covered is None:
                covered = _system_code_points()
                if self.template_dir is not None and self.template_dir.is_dir():
                    for pattern in _FONT_FILES:
                        for path in self.template_dir.rglob(pattern):
                            covered |= _file_code_points(path)
                self._covered = covered
            return self._covered

    def missing(self, text: str) -> str:
        covered = self._code_points()
        if not covered:
            return ""  # nothing known about the fonts: say nothing rather than everything
        return "".join(dict.fromkeys(c for c in text if _drawn(c) and ord(c) not in covered))
