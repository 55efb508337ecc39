"""The GraphQL-over-HTTP audit of the `graphql-http` package (the spec's reference
implementation, npm), run against a real `invoicing serve`: every MUST and every SHOULD."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, run_cli
from tests.e2e.processes import start_server, stop

CLIENTS = REPO / "tests" / "clients"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    (NODE is None or not (CLIENTS / "node_modules" / "graphql-http").is_dir())
    and not os.environ.get("CI"),
    reason="Node.js or tests/clients/node_modules missing (make install sets them up)",
)


def test_every_must_and_should_of_the_graphql_over_http_audit_passes(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    token = run_cli("token", "create", "--role", "staff", env=env).stdout.strip().splitlines()[-1]
    process, base = start_server(env, tmp_path / "serve.log")
    try:
        audit = subprocess.run(
            [NODE or "node", "graphql_http_audit.mjs", f"{base}/graphql", token],
            cwd=CLIENTS,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        stop(process)
    assert audit.returncode == 0, audit.stderr
    results = json.loads(audit.stdout)
    assert len(results) >= 60  # the audit's full list, MUST and SHOULD alike
    failing = [f"{r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert failing == []
