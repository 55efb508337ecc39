"""Reading XML that came from outside (a file given to the CLI, a PDF's attachment): once,
with lxml, and as data only.

libxml2 will, if let, load external DTDs, expand entities (an entity bomb grows a few bytes
into gigabytes) and read `file:` or `http:` URLs an entity names; SaxonC, given the raw
bytes, fetches them too. So the parser here has DTD loading, entity resolution and the
network off, a resolver that refuses anything it is still asked for, and a document that
declares a DOCTYPE at all is refused: an e-invoice never needs one. What passes is written
out again, so the next parser (Saxon's) reads a document with no DOCTYPE and no entity.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from domain.ports import UnsafeXml

DOCTYPE_REFUSED = (
    "the XML declares a DOCTYPE; e-invoices carry none, and no DTD or entity is ever read"
)


class _RefuseEverything(etree.Resolver):  # type: ignore[misc]
    """Asked for any external resource (a DTD, an entity): the answer is an error."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        raise UnsafeXml(DOCTYPE_REFUSED)


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
    )
    parser.resolvers.add(_RefuseEverything())
    return parser


def parse_untrusted(xml: bytes) -> Any:
    """The root element of `xml`; UnsafeXml if it declares a DOCTYPE, lxml's
    XMLSyntaxError if it is not well formed."""
    if _declares_doctype(xml):
        raise UnsafeXml(DOCTYPE_REFUSED)
    root = etree.fromstring(xml, _parser())
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml(DOCTYPE_REFUSED)  # a DOCTYPE the scan above could not see
    return root


def serialized(root: Any) -> bytes:
    """The tree written out as UTF-8 XML: no DOCTYPE, no entity, nothing to fetch."""
    written: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return written


def _declares_doctype(xml: bytes) -> bool:
    """Whether the prolog, before the root element, holds `<!DOCTYPE` (in any of the
    encodings an XML declaration may name, UTF-16 included): refused before libxml2 reads a
    byte of it."""
    for encoding in ("utf-8", "utf-16"):
        try:
            head = xml[:65536].decode(encoding, errors="ignore")
        except LookupError:  # pragma: no cover - both codecs always exist
            continue
        prolog = head.split("<", 1)
        rest = "<" + prolog[1] if len(prolog) == 2 else ""
        # Skip the declaration, comments and processing instructions before the root.
        while rest.startswith(("<?", "<!--")):
            end = rest.find("?>") + 2 if rest.startswith("<?") else rest.find("-->") + 3
            if end < 3:
                break
            rest = rest[end:].lstrip()
        if rest[:9].upper() == "<!DOCTYPE":
            return True
    return False
