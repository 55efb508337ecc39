"""The designer's workspace: templates x fixtures x languages, rendered by the production
code (same variables, sandbox, renderer and render key), with PDFs cached by that key."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from domain.config import Settings
from domain.errors import DomainError
from domain.model.einvoice import Syntax
from domain.ports import EInvoiceValidator, PdfRenderer, RenderFailed, TemplateFailure
from domain.rendering.documents import FixtureError, InvoiceDocument
from domain.rendering.email import EmailContent, EmailFacts, Reminding, email_content
from domain.rendering.renderer import DocumentRenderer, PreparedDocument
from domain.rendering.variables import template_variables
from domain.services.einvoice_checks import EInvoiceChecks
from preview_server.fixtures import fixture_names, fixture_path, load_fixture
from preview_server.lint import LintReport, lint

_VARIANT = re.compile(r"^(?P<base>.+)_(?P<lang>[a-z]{2})$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class PreviewError(Exception):
    """Something the designer must fix, shown in the page with where it is."""

    def __init__(
        self, status: int, file: str, message: str, line: int | None = None, snippet: str = ""
    ) -> None:
        super().__init__(f"{file}{f', line {line}' if line else ''}: {message}")
        self.status, self.file, self.line, self.message, self.snippet = (
            status,
            file,
            line,
            message,
            snippet,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class RenderedPreviewPdf:
    data: bytes
    page_count: int
    hit: bool
    milliseconds: float
    key: str


class Workspace:
    def __init__(
        self,
        settings: Settings,
        templates_dir: Path,
        fixtures_dir: Path,
        renderer: PdfRenderer,
        rules: EInvoiceValidator | None = None,
    ) -> None:
        self.templates_dir = templates_dir.resolve()
        self.fixtures_dir = fixtures_dir.resolve()
        # The production settings with the designer's template folder.
        invoice = settings.invoice.model_copy(update={"template_dir": str(self.templates_dir)})
        self.settings = settings.model_copy(update={"invoice": invoice})
        self.documents = DocumentRenderer(self.settings, renderer)
        self.einvoices = EInvoiceChecks(self.settings, rules) if rules is not None else None
        self._pdfs: dict[tuple[str, str, str], tuple[str, bytes, int, float]] = {}
        self._fixtures: dict[tuple[Path, int, int], InvoiceDocument] = {}

    def templates(self) -> list[str]:
        stems = sorted(path.stem for path in self.templates_dir.glob("*.html"))
        return [stem for stem in stems if not ((m := _VARIANT.match(stem)) and m["base"] in stems)]

    def default_template(self) -> str:
        """The template production uses (invoice.template_filename), else the first."""
        configured = Path(self.settings.invoice.template_filename).stem
        templates = self.templates()
        return configured if configured in templates else (templates[0] if templates else "")

    def languages(self, template: str) -> list[str]:
        variants = sorted(
            m["lang"]
            for path in self.templates_dir.glob(f"{template}_*.html")
            if (m := _VARIANT.match(path.stem)) and m["base"] == template
        )
        default = self.settings.business.default_language
        return [default, *[lang for lang in variants if lang != default]]

    def fixtures(self) -> list[str]:
        return fixture_names(self.fixtures_dir)

    def template_file(self, template: str) -> str:
        path = (self.templates_dir / f"{template}.html").resolve()
        if (
            not _NAME.match(template)
            or not path.is_relative_to(self.templates_dir)
            or not path.is_file()
        ):
            raise PreviewError(404, f"{template}.html", "no such template")
        return path.name

    def document(self, fixture: str, language: str | None = None) -> InvoiceDocument:
        path = fixture_path(self.fixtures_dir, fixture) if _NAME.match(fixture) else None
        if path is None:
            raise PreviewError(404, fixture, "no such fixture")
        stat = path.stat()
        signature = (path, stat.st_mtime_ns, stat.st_size)
        document = self._fixtures.get(signature)
        if document is None:
            try:
                document = load_fixture(path, self.settings)
            except FixtureError as error:
                raise PreviewError(422, path.name, str(error).split(": ", 1)[-1]) from None
            self._fixtures = {key: value for key, value in self._fixtures.items() if key[0] != path}
            self._fixtures[signature] = document
        if language:
            document = replace(document, client=replace(document.client, language=language))
        return document

    async def prepare(
        self, template: str, fixture: str, language: str | None = None
    ) -> PreparedDocument:
        template_file = self.template_file(template)
        document = self.document(fixture, language)
        try:
            prepared = await self.documents.prepare(document, template_file)
        except TemplateFailure as failure:
            raise PreviewError(
                422, failure.file, failure.message, failure.line, failure.snippet
            ) from None
        self._check_assets(prepared)
        return prepared

    async def email(
        self, fixture: str, language: str | None = None, reminder_days: int | None = None
    ) -> EmailContent:
        """The invoice email for a fixture, from the folder's email/ templates; or its
        reminder `reminder_days` after the due date (negative: before it)."""
        document = self.document(fixture, language)
        facts = EmailFacts.of_document(document)
        view_url = "https://crm.example/i/preview-link"  # the signed link a real email carries
        reminding = (
            Reminding(document.due_date, reminder_days) if reminder_days is not None else None
        )
        try:
            return await email_content(self.settings, self.documents, facts, view_url, reminding)
        except TemplateFailure as failure:
            raise PreviewError(
                422, failure.file, failure.message, failure.line, failure.snippet
            ) from None

    async def einvoice(self, fixture: str, language: str | None = None) -> dict[str, Any]:
        """The rules the fixture's e-invoices break, CII (Factur-X) and UBL, as JSON."""
        if self.einvoices is None:
            raise PreviewError(404, fixture, "e-invoice checks are off in this preview")
        document = self.document(fixture, language)
        report: dict[str, Any] = {}
        for syntax in (Syntax.CII, Syntax.UBL):
            try:
                verdict = await self.einvoices.verdict(document, syntax)
            except DomainError as error:
                raise PreviewError(503, fixture, error.message) from None
            report[syntax.value] = {
                "valid": verdict.valid,
                "peppol": verdict.peppol,
                "failures": [
                    {
                        "rule": failure.rule,
                        "flag": failure.flag,
                        "location": failure.location,
                        "text": failure.text,
                    }
                    for failure in verdict.failures
                ],
            }
        return report

    async def lint(
        self, template: str, fixture: str, language: str | None = None
    ) -> tuple[str, LintReport]:
        prepared = await self.prepare(template, fixture, language)
        variables = template_variables(self.document(fixture, language), self.settings)
        return prepared.template, lint(self.documents.templates, prepared.template, variables)

    def _check_assets(self, prepared: PreparedDocument) -> None:
        for name, digest in prepared.assets.local:
            if digest == "missing":
                line, snippet = self._find_reference(name)
                raise PreviewError(422, line[0], f"missing asset: {name}", line[1], snippet)

    def _find_reference(self, asset: str) -> tuple[tuple[str, int | None], str]:
        """Where a template or stylesheet refers to `asset`: by its path, else by its name."""
        files = [
            p
            for p in sorted(self.templates_dir.rglob("*"))
            if p.suffix in (".html", ".css") and p.is_file()
        ]
        for needle in (asset, Path(asset).name):
            for path in files:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
                for number, text in enumerate(lines, start=1):
                    if needle in text:
                        return (str(path.relative_to(self.templates_dir)), number), text.strip()
        return (asset, None), ""

    async def pdf(
        self, template: str, fixture: str, language: str | None = None
    ) -> RenderedPreviewPdf:
        prepared = await self.prepare(template, fixture, language)
        combination = (template, fixture, language or "")
        cached = self._pdfs.get(combination)
        if cached and cached[0] == prepared.key:
            return RenderedPreviewPdf(cached[1], cached[2], True, cached[3], prepared.key)
        started = time.perf_counter()
        try:
            rendered = await self.documents.render(prepared)
        except RenderFailed as failure:
            raise PreviewError(422, prepared.template, f"WeasyPrint: {failure}") from None
        elapsed = (time.perf_counter() - started) * 1000
        # One entry per combination: a new key replaces (drops) the stale PDF.
        self._pdfs[combination] = (prepared.key, rendered.data, rendered.page_count, elapsed)
        return RenderedPreviewPdf(rendered.data, rendered.page_count, False, elapsed, prepared.key)
