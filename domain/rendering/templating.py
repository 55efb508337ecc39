"""Invoice templates: picking one, rendering it in Jinja2's sandbox, and knowing every
local file it pulls in.

Templates are untrusted input (designers and operators write them), so they run in the
sandbox with plain data only, autoescaped, and a missing variable is an error rather than
an empty space. Errors carry the template file, line and the offending source line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    nodes,
    pass_context,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from domain.model.formatting import Formatter
from domain.ports import TemplateFailure


def _formatter(context: Context) -> Formatter:
    # template_variables names the document's currency and its symbol in the client's
    # language (the business's own symbol, where business.currency_symbol sets one).
    return Formatter(
        context.get("currency_code", "USD"),
        context.get("language", "en"),
        context.get("currency_symbol"),
    )


@pass_context
def _money(context: Context, value: Any) -> str:
    return _formatter(context).money(value)


@pass_context
def _long_date(context: Context, value: Any) -> str:
    return _formatter(context).long_date(value)


def _finalize(value: Any) -> Any:
    # An empty address line prints as nothing, not as "None".
    return "" if value is None else value


_URL_IN_HTML = re.compile(
    r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)["']?\s*\)""", re.I
)
_IMPORT_IN_CSS = re.compile(r"""@import\s+["']([^"']+)["']""", re.I)
_DYNAMIC = re.compile(r"\{[{%#]")


@dataclass(frozen=True)
class Assets:
    """The local files a rendered page uses, with their content digests, and remote URLs."""

    local: tuple[tuple[str, str], ...]
    remote: tuple[str, ...]


class TemplateSet:
    """The invoice templates in one folder."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).resolve()
        self.environment = SandboxedEnvironment(
            loader=FileSystemLoader(str(self.directory)),
            autoescape=True,
            undefined=StrictUndefined,
            finalize=_finalize,
            auto_reload=True,
        )
        self.environment.filters["money"] = _money
        self.environment.filters["long_date"] = _long_date
        self._digests: dict[Path, tuple[tuple[int, int], str]] = {}
        self._sources_memo: dict[tuple[str, object], list[tuple[str, nodes.Template]]] = {}
        self._shared_memo: tuple[object, frozenset[str]] | None = None

    def pick(self, filename: str, language: str) -> str:
        """The customer's language variant (invoice_es.html) if there is one, else the base file."""
        base = Path(filename)
        variant = base.with_name(f"{base.stem}_{language}{base.suffix}").as_posix()
        return variant if (self.directory / variant).is_file() else filename

    def language_for(self, filename: str, language: str, default: str) -> str:
        """The language a document from `filename` is written in for a customer of
        `language`: theirs where the template has a variant for it (or it is the default,
        which the base file is written in), else the default, so that the words and the
        numbers and dates never come from two different languages."""
        if language == default or self.pick(filename, language) != filename:
            return language
        return default

    def render(self, name: str, variables: dict[str, Any]) -> str:
        try:
            return self.environment.get_template(name).render(variables)
        except TemplateSyntaxError as error:
            file = Path(error.filename or name).name
            raise TemplateFailure(
                file, error.lineno, error.message or "syntax error", self._line(file, error.lineno)
            ) from None
        except TemplateNotFound as error:
            raise TemplateFailure(
                str(error.name), None, f"template not found in {self.directory}"
            ) from None
        except Exception as error:  # UndefinedError, SecurityError, a filter's ValueError...
            file, line = self._template_frame(error.__traceback__, name)
            message = f"{type(error).__name__}: {error}"
            raise TemplateFailure(file, line, message, self._line(file, line)) from None

    def _template_frame(self, traceback: Any, default: str) -> tuple[str, int | None]:
        # Jinja rewrites tracebacks so template frames carry the template's file and line.
        found: tuple[str, int | None] = (default, None)
        while traceback is not None:
            filename = traceback.tb_frame.f_code.co_filename
            if filename.startswith(str(self.directory)):
                found = (Path(filename).name, traceback.tb_lineno)
            traceback = traceback.tb_next
        return found

    def _line(self, file: str, line: int | None) -> str:
        try:
            return (
                (self.directory / file).read_text(encoding="utf-8").splitlines()[line - 1].strip()
                if line
                else ""
            )
        except (OSError, IndexError):
            return ""

    def sources_signature(self) -> tuple[tuple[str, int, int], ...]:
        """Changes whenever a template file (not an asset) in the folder changes."""
        found = []
        for path in sorted(self.directory.rglob("*.htm*")):
            stat = path.stat()
            found.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def sources(self, template: str) -> list[tuple[str, nodes.Template]]:
        """The template's source and syntax tree, and those of the templates it extends,
        includes or imports (by literal name), each once; remembered until a template file
        changes. A template that cannot be read or parsed is left out (rendering reports
        it, with its line)."""
        signature = self.sources_signature()
        memo_key = (template, signature)
        memo = self._sources_memo
        if memo_key in memo:
            return memo[memo_key]
        found: dict[str, tuple[str, nodes.Template]] = {}
        pending = [template]
        while pending:
            name = pending.pop()
            if name in found:
                continue
            try:
                source, _, _ = self.environment.loader.get_source(self.environment, name)  # type: ignore[union-attr]
                parsed = self.environment.parse(source)
            except (TemplateNotFound, TemplateSyntaxError):
                continue
            found[name] = (source, parsed)
            pending.extend(n for n in meta.find_referenced_templates(parsed) if n)
        # Every template's, as long as no template file changes (one at a time, each
        # template shown after another was parsed anew: a preview's pages, the lint).
        # Replaced whole, never changed in place: a thread may be reading it.
        current = {key: value for key, value in memo.items() if key[1] == signature}
        self._sources_memo = {**current, memo_key: list(found.values())}
        return self._sources_memo[memo_key]

    def shared_assets(self) -> frozenset[str]:
        """The files inside the folder that the templates use as assets (stylesheets,
        images, fonts): what a browser showing an invoice page may fetch, and nothing else
        of the folder. Remembered until a template file changes."""
        signature = self.sources_signature()
        if self._shared_memo is None or self._shared_memo[0] != signature:
            found = {
                name
                for template in self.directory.glob("*.htm*")
                for name, digest in self.assets(template.name).local
                if digest != "outside" and (self.directory / name).is_file()
            }
            self._shared_memo = (signature, frozenset(found))
        return self._shared_memo[1]

    def assets(self, template: str) -> Assets:
        """Every local file the template pulls in (through its stylesheets too), and every
        remote URL it names. Read from the template sources and the stylesheets they name,
        never from a rendered page, whose text comes from data: a description saying
        `url(file:///etc/passwd)` is text, not a reference, and no file is opened for it.
        Files outside the template folder are never read (WeasyPrint refuses them too)."""
        local: dict[str, str] = {}
        remote: list[str] = []
        pending = [(text, self.directory) for text, _ in self.sources(template)]
        while pending:
            text, base = pending.pop()
            for reference in _references(text):
                if reference.startswith(("http://", "https://", "//", "ftp://")):
                    remote.append(reference)
                    continue
                if _DYNAMIC.search(reference):
                    continue  # filled in from data when rendered: not an asset of the template
                path = self._local_path(reference, base)
                if path is None:
                    continue
                inside = path.is_relative_to(self.directory)
                key = str(path.relative_to(self.directory)) if inside else str(path)
                if key in local:
                    continue
                local[key] = self._digest(path) if inside else "outside"
                if path.suffix == ".css" and inside and path.is_file():
                    pending.append(
                        (path.read_text(encoding="utf-8", errors="replace"), path.parent)
                    )
        return Assets(tuple(sorted(local.items())), tuple(dict.fromkeys(remote)))

    def _local_path(self, reference: str, base: Path) -> Path | None:
        parts = urlsplit(reference)
        if parts.scheme in ("data", "mailto", "tel") or reference.startswith("#"):
            return None
        if parts.scheme == "file":
            return Path(unquote(parts.path)).resolve()
        if parts.scheme:
            return None
        return (base / unquote(parts.path)).resolve()

    def _digest(self, path: Path) -> str:
        try:
            stat = path.stat()
        except OSError:
            return "missing"
        signature = (stat.st_mtime_ns, stat.st_size)
        cached = self._digests.get(path)
        if cached and cached[0] == signature:
            return cached[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
        self._digests[path] = (signature, digest)
        return digest


@lru_cache(maxsize=512)
def _references(text: str) -> tuple[str, ...]:
    found = [a or b for a, b in _URL_IN_HTML.findall(text)]
    found += _IMPORT_IN_CSS.findall(text)
    return tuple(ref.strip() for ref in found if ref.strip())


def render_key(html: str, assets: Assets, settings: dict[str, Any]) -> str:
    """The cache key of a PDF: everything that shapes its bytes, and nothing else."""
    digest = hashlib.sha256()
    digest.update(repr(sorted(settings.items())).encode())
    digest.update(b"\0")
    digest.update(html.encode("utf-8"))
    for name, content in assets.local:
        digest.update(f"\0{name}={content}".encode())
    return digest.hexdigest()


# A page's HTML beyond this is a template gone wrong, not an invoice.
MAX_HTML_BYTES = 50 * 1024 * 1024
_template_sets: dict[str, TemplateSet] = {}


def render_page(directory: str, template: str, variables: dict[str, Any]) -> str:
    """Render one page: run by a render worker (PdfRenderer.render_html), with its limits.
    Each worker keeps one TemplateSet per folder, which reloads the files that change."""
    templates = _template_sets.get(directory)
    if templates is None:
        templates = _template_sets[directory] = TemplateSet(directory)
    html = templates.render(template, variables)
    if len(html) > MAX_HTML_BYTES:
        raise TemplateFailure(template, None, f"the page is over {MAX_HTML_BYTES // 2**20} MB")
    return html
