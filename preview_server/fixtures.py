"""Designers' fixture files: invoice data in YAML or JSON, turned into the same document
a real invoice becomes, so a template that works in preview works in production."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from domain.config import Settings
from domain.rendering.documents import FixtureError, InvoiceDocument, document_from_mapping

SUFFIXES = (".yaml", ".yml", ".json")
# libyaml's loader when PyYAML was built with it: several times faster on big fixtures.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def fixture_names(folder: Path) -> list[str]:
    return sorted(
        path.stem for path in folder.iterdir() if path.suffix in SUFFIXES and path.is_file()
    )


def fixture_path(folder: Path, name: str) -> Path | None:
    for suffix in SUFFIXES:
        path = (folder / f"{name}{suffix}").resolve()
        if path.is_relative_to(folder.resolve()) and path.is_file():
            return path
    return None


def load_fixture(path: Path, settings: Settings) -> InvoiceDocument:
    """The fixture's document; a FixtureError names the file and the field at fault."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_SAFE_LOADER)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise FixtureError(f"{path.name}: cannot be read: {error}") from None
    if not isinstance(data, dict):
        raise FixtureError(f"{path.name}: the top level must be a mapping of invoice fields")
    try:
        return document_from_mapping(
            data, settings.business.default_language, settings.business.currency_code
        )
    except FixtureError as error:
        raise FixtureError(f"{path.name}: {error}") from None
