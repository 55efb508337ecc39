"""What the CII and UBL writers share: building elements in order, and the one way amounts,
rates and dates are written (two decimals; a rate as short as it reads; ISO dates)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from domain.model.money import canonical

# Characters XML 1.0 cannot carry (C0 controls but tab, line feed and return; U+FFFE/F). A
# charge's description may hold one (a pasted terminal colour code): the e-invoice drops it
# rather than become a file no parser reads.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def namespaces(prefixes: dict[str, str]) -> dict[str, str]:
    for prefix, uri in prefixes.items():
        register_namespace(prefix, uri)
    return prefixes


def qualified(prefixes: dict[str, str], name: str) -> str:
    """ "ram:ID" -> "{urn:...}ID"."""
    prefix, _, local = name.partition(":")
    return f"{{{prefixes[prefix]}}}{local}"


class Builder:
    """Elements in a fixed set of namespaces, written by prefixed name."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = namespaces(prefixes)

    def root(self, name: str, *, unprefixed: bool = False) -> Element:
        """The document element; `unprefixed` puts it in its namespace as the default one
        (<Invoice xmlns="...">, as UBL is written), its children keeping their prefixes."""
        if unprefixed:
            prefix, _, local = name.partition(":")
            return Element(local, {"xmlns": self.prefixes[prefix]})
        return Element(qualified(self.prefixes, name))

    def add(
        self, parent: Element, name: str, value: str | None = None, **attributes: str
    ) -> Element:
        element = SubElement(parent, qualified(self.prefixes, name), attributes)
        if value is not None:
            element.text = _NOT_XML.sub("", value)
        return element

    def optional(
        self, parent: Element, name: str, value: str | None, **attributes: str
    ) -> Element | None:
        """The element only when there is a value (the standard forbids empty elements)."""
        return self.add(parent, name, value, **attributes) if value else None


def amount(value: Decimal) -> str:
    """An amount as written: two decimals, or the three of a dinar's fils. EN 16931 allows
    two (BR-DEC-*): a three-decimal amount is written exactly, and the rules say so,
    rather than rounded here into totals that no longer add up."""
    return f"{canonical(value):f}"


def rate(value: Decimal) -> str:
    """10 for 10.00, 10.5 for 10.50: what the rate is, without trailing zeros."""
    normalized = value.normalize()
    return f"{normalized:f}" if normalized != 0 else "0"


def ymd(day: date) -> str:
    """CII's date format 102: 20250131."""
    return day.strftime("%Y%m%d")


def document(root: Element) -> bytes:
    body: bytes = tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
