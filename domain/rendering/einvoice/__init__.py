"""Invoice documents as EN 16931 e-invoices: one mapping (mapping.py) onto the standard's
semantic model, written as CII (cii.py, what Factur-X embeds) or UBL (ubl.py, Peppol BIS).

    document (rendering/documents.py) --en16931()--> EInvoice (model/einvoice.py)
        --write_cii()--> factur-x.xml        --write_ubl()--> Invoice/CreditNote XML
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.config import Settings
from domain.model.einvoice import Syntax
from domain.ports import RuleFailure
from domain.rendering.documents import InvoiceDocument
from domain.rendering.einvoice.cii import write_cii
from domain.rendering.einvoice.mapping import en16931
from domain.rendering.einvoice.ubl import is_peppol, write_ubl


@dataclass(frozen=True)
class WrittenEInvoice:
    syntax: Syntax
    xml: bytes
    # The UBL claims Peppol BIS Billing 3.0 (so its rules apply too).
    peppol: bool
    # What the mapping found missing in our data (CRM-...).
    problems: tuple[RuleFailure, ...]


def write_einvoice(
    document: InvoiceDocument, settings: Settings, syntax: Syntax
) -> WrittenEInvoice:
    mapped = en16931(document, settings)
    invoice = mapped.invoice
    if syntax is Syntax.CII:
        return WrittenEInvoice(syntax, write_cii(invoice), False, mapped.problems)
    return WrittenEInvoice(syntax, write_ubl(invoice), is_peppol(invoice), mapped.problems)


_ROOTS = {
    "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice": (
        Syntax.CII
    ),
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": Syntax.UBL,
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": Syntax.UBL,
}


def syntax_of(xml: bytes) -> Syntax | None:
    """Which syntax an e-invoice is written in, by its root element; None if neither."""
    from io import BytesIO
    from xml.etree.ElementTree import ParseError, iterparse

    try:
        _, root = next(iterparse(BytesIO(xml), events=("start",)))
    except (ParseError, StopIteration):
        return None
    return _ROOTS.get(root.tag)
