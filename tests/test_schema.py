import subprocess
import sys
from pathlib import Path

import pytest

from graph.schema import SCHEMA_FILE, export_sdl

REPO = Path(__file__).resolve().parents[1]
CONTRACT_TOOL = REPO.parent / "shared" / "tools" / "check_contract.py"


def test_the_exported_schema_file_is_the_live_schema() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == export_sdl(), (
        "graph/schema.graphql is stale: run `invoicing schema export`"
    )


@pytest.mark.skipif(not CONTRACT_TOOL.exists(), reason="../shared is not beside this checkout")
def test_the_schema_keeps_the_contract() -> None:
    result = subprocess.run(
        [sys.executable, str(CONTRACT_TOOL), str(SCHEMA_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 incompatible, 0 missing" in result.stdout


def test_the_scalars_say_what_they_hold_and_where_that_is_specified() -> None:
    exported = export_sdl()
    for name, url in (
        ("Date", "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"),
        ("DateTime", "https://scalars.graphql.org/andimarek/date-time.html"),
        ("Decimal", "https://www.w3.org/TR/xmlschema11-2/#decimal"),
    ):
        assert f'scalar {name} @specifiedBy(url: "{url}")' in exported
