"""What a template uses against what the data provides, and what the renderer will refuse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import meta

from domain.rendering.templating import TemplateSet

# Names Jinja itself provides inside templates.
JINJA_NAMES = {
    "range",
    "loop",
    "dict",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "self",
    "super",
    "varargs",
    "kwargs",
    "caller",
}


@dataclass(frozen=True)
class LintReport:
    missing: tuple[str, ...]
    unused: tuple[str, ...]
    remote_urls: tuple[str, ...]

    @property
    def matters(self) -> bool:
        """Findings that break production renders (unused variables do not)."""
        return bool(self.missing or self.remote_urls)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "missing": list(self.missing),
            "unused": list(self.unused),
            "remote_urls": list(self.remote_urls),
        }


def used_names(templates: TemplateSet, name: str) -> set[str]:
    """Top-level names a template and everything it extends or includes reads."""
    used: set[str] = set()
    for _, tree in templates.sources(name):
        used |= meta.find_undeclared_variables(tree)
    return used


def lint(templates: TemplateSet, name: str, variables: dict[str, Any]) -> LintReport:
    used = used_names(templates, name)
    # A child template sets `t` before extending; the parent's `t is defined` check is fine.
    provided = set(variables) | {"t"}
    missing = sorted(used - provided - JINJA_NAMES - set(templates.environment.globals))
    unused = sorted(set(variables) - used)
    return LintReport(tuple(missing), tuple(unused), templates.assets(name).remote)
