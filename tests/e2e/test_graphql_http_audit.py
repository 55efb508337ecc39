"""The GraphQL-over-HTTP audit of the `graphql-http` package (the spec's reference
implementation, npm), run against a real `invoicing serve`: every MUST and every SHOULD."""

import json
from pathlib import Path

from tests.e2e.node_clients import needs, run_against_server

pytestmark = needs("graphql-http")


def test_every_must_and_should_of_the_graphql_over_http_audit_passes(tmp_path: Path) -> None:
    audit = run_against_server("graphql_http_audit.mjs", tmp_path)
    results = json.loads(audit.stdout)
    assert len(results) >= 60  # the audit's full list, MUST and SHOULD alike
    failing = [f"{r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert failing == []
