"""An invoice document as an e-invoice, and what the official rules say of it: for the UBL
download and `Invoice.eInvoice` (services/einvoices.py), for the CII XML a Factur-X PDF
carries (services/invoice_pdfs.py), and for `invoicing einvoice validate`.

Every e-invoice handed out is checked against the rules first; the verdict is remembered by
the XML's SHA-256 (with the rules' identity), so checking again costs nothing until the
invoice, the seller's settings or the rules change.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass

from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.einvoice import BrokenRule, EInvoiceStatus, Syntax
from domain.model.entities import Customer
from domain.model.enums import EInvoiceFormat
from domain.ports import EInvoiceValidator, RuleFailure, ValidationUnavailable
from domain.rendering.documents import InvoiceDocument
from domain.rendering.einvoice import write_einvoice

log = logging.getLogger("invoicing.einvoice")

VERDICTS_KEPT = 4096


@dataclass(frozen=True)
class Verdict:
    syntax: Syntax
    xml: bytes
    peppol: bool
    failures: tuple[RuleFailure, ...]

    @property
    def fatal(self) -> tuple[RuleFailure, ...]:
        return tuple(f for f in self.failures if f.flag == "fatal")

    @property
    def valid(self) -> bool:
        return not self.fatal

    @property
    def broken_rules(self) -> str:
        """The rules it breaks fatally, each once: "BR-11, CRM-BUYER-COUNTRY"."""
        return ", ".join(sorted({f.rule for f in self.fatal}))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.xml).hexdigest()

    def status(self, format: EInvoiceFormat, url: str | None) -> EInvoiceStatus:
        """What `Invoice.eInvoice` says of it, fetched from `url`."""

        def broken(flag: str) -> tuple[BrokenRule, ...]:
            return tuple(
                BrokenRule(f.rule, f.location, f.text) for f in self.failures if f.flag == flag
            )

        return EInvoiceStatus(
            format, url, self.valid, self.peppol, broken("fatal"), broken("warning")
        )


def unavailable(error: ValidationUnavailable) -> DomainError:
    return DomainError(
        ErrorCode.EINVOICE_UNAVAILABLE, f"The e-invoice could not be checked: {error}"
    )


def format_for(customer: Customer, settings: Settings) -> EInvoiceFormat:
    """The e-invoice a customer receives: its own choice, else the configured default."""
    return customer.einvoice_format or EInvoiceFormat(settings.einvoice.default_format)


class EInvoiceChecks:
    """A document written in a syntax, and what the rules say of it."""

    def __init__(self, settings: Settings, validator: EInvoiceValidator) -> None:
        self.settings = settings
        self.validator = validator
        self._verdicts: OrderedDict[tuple[str, str, bool, str], tuple[RuleFailure, ...]] = (
            OrderedDict()
        )

    async def verdict(self, document: InvoiceDocument, syntax: Syntax) -> Verdict:
        """Raises DomainError(EINVOICE_UNAVAILABLE) when the rules cannot be run."""
        written = write_einvoice(document, self.settings, syntax)
        failures = await self.check(written.xml, syntax, peppol=written.peppol)
        return Verdict(syntax, written.xml, written.peppol, written.problems + failures)

    async def check(self, xml: bytes, syntax: Syntax, *, peppol: bool) -> tuple[RuleFailure, ...]:
        key = (hashlib.sha256(xml).hexdigest(), syntax.value, peppol, self.validator.rules)
        failures = self._verdicts.get(key)
        if failures is None:
            try:
                failures = await self.validator.validate(xml, syntax.value, peppol=peppol)
            except ValidationUnavailable as error:
                log.error("e-invoice rules unavailable: %s", error)
                raise unavailable(error) from None
            self._verdicts[key] = failures
            while len(self._verdicts) > VERDICTS_KEPT:
                self._verdicts.popitem(last=False)
        else:
            self._verdicts.move_to_end(key)
        return failures

    async def passing_xml(
        self, document: InvoiceDocument, syntax: Syntax, invoice_id: int | None, instead: str
    ) -> bytes | None:
        """The document's XML when it passes the rules, to go with its PDF (inside it, or
        beside it in the email); else None, and the log says what happens `instead` and
        which rules the XML breaks. No receiver's system gets an e-invoice it would reject,
        nor one of a void invoice or a draft."""
        if document.void or document.draft:
            return None
        verdict = await self.verdict(document, syntax)
        if not verdict.valid:
            log.warning(
                "invoice %s: %s: its %s XML breaks %s",
                invoice_id,
                instead,
                syntax.value.upper(),
                verdict.broken_rules,
            )
            return None
        return verdict.xml
