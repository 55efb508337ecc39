"""Country names as people type them ("Australia", "España", "méxico") to the ISO 3166-1
alpha-2 codes an e-invoice needs (BT-40, BT-55), through CLDR's names in several
languages (Babel). A customer's address keeps the name as typed; the code is looked up."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

from domain.model.folding import fold

# The languages whose country names are recognised; CLDR has every territory's name in each.
NAME_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl")
# Names people commonly write that CLDR spells otherwise.
_ALIASES = {
    "usa": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "estados unidos de america": "US",
    "eeuu": "US",
    "ee.uu.": "US",
    "hong kong": "HK",
    "hong kong sar": "HK",
    "macau": "MO",
    "macao": "MO",
    "macao sar": "MO",
    "czech republic": "CZ",
    "turkey": "TR",
    "burma": "MM",
    "ivory coast": "CI",
    "south korea": "KR",
    "korea": "KR",
}


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    names: dict[str, str] = dict(_ALIASES)
    for language in NAME_LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            # Two letters: a country; digits (001, 419) are regions of the world.
            if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "ZZ"):
                names.setdefault(fold(name), code)
                names.setdefault(code.lower(), code)
    return names


def country_code(name: str | None) -> str | None:
    """The ISO code of a country name or code in any of NAME_LANGUAGES; None if unknown."""
    if not name or not name.strip():
        return None
    return _names().get(fold(" ".join(name.split())))


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 country code CLDR knows."""
    return frozenset(code for code in _names().values())
