"""An import-linter contract of our own, registered in pyproject.toml.

import-linter's `forbidden` contract can name an external package only as a whole
(`sqlalchemy`, not `sqlalchemy.ext.asyncio` or `sqlalchemy.orm.Session`). This contract
reads each source module's imports itself, so a layer can use SQLAlchemy's column types and
mapping while the session API stays out of it.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


def _imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


class ForbiddenNamesContract(Contract):
    """The source modules (and their descendants) may not import any of the forbidden
    dotted names, nor anything below them."""

    source_modules = fields.ListField(subfield=fields.ModuleField())
    forbidden_names = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        forbidden = [str(name) for name in self.forbidden_names]  # type: ignore[attr-defined]
        broken: list[str] = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            modules = {source.name} | graph.find_descendants(source.name)
            for module in sorted(modules):
                spec = importlib.util.find_spec(module)
                if spec is None or spec.origin is None:
                    continue
                tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
                for line, name in _imported_names(tree):
                    if any(name == f or name.startswith(f + ".") for f in forbidden):
                        broken.append(f"{module}:{line} imports {name}")
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["broken"]:
            output.print_error(line)
