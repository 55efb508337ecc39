"""graphql-codegen, as a frontend team runs it against graph/schema.graphql: the client
preset generates, every scalar is typed (strictScalars), the app type-checks with tsc, and
the persisted-documents manifest it writes is what the API, with only_trusted, runs."""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.e2e.conftest import REPO, run_cli
from tests.e2e.node_clients import CLIENTS, needs
from tests.e2e.processes import start_server, stop

BIN = CLIENTS / "node_modules" / ".bin"
pytestmark = needs("@graphql-codegen/cli")


def _run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_codegen_generates_typed_clients_whose_manifest_the_api_trusts(tmp_path: Path) -> None:
    work = tmp_path / "frontend"
    shutil.copytree(CLIENTS / "codegen", work / "codegen", ignore=shutil.ignore_patterns("gql"))
    (work / "node_modules").symlink_to(CLIENTS / "node_modules")
    _run(
        str(BIN / "graphql-codegen"),
        "--config",
        "codegen/codegen.ts",
        cwd=work,
        env={"CODEGEN_SCHEMA": str(REPO / "graph" / "schema.graphql")},
    )
    generated = (work / "codegen" / "gql" / "graphql.ts").read_text()
    # Money and moments typed as the strings they are, never `any` or `unknown`.
    assert "total: string, dueDate: string, createdAt: string" in generated
    _run(str(BIN / "tsc"), "-p", "codegen/tsconfig.json", cwd=work)

    manifest = work / "codegen" / "gql" / "persisted-documents.json"
    documents = json.loads(manifest.read_text())
    [page_hash] = [k for k, v in documents.items() if v.startswith("query InvoicesPage")]
    config = tmp_path / "crm_config.yaml"
    config.write_text(
        f"graphql:\n  trusted_documents: {json.dumps(str(manifest))}\n  only_trusted: true\n"
    )
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", "CRM_CONFIG": str(config)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    token = run_cli("token", "create", "--role", "staff", env=env).stdout.strip().splitlines()[-1]
    process, base = start_server(env, tmp_path / "serve.log")
    try:
        headers = {"Authorization": f"Bearer {token}"}
        shipped = httpx.post(
            f"{base}/graphql",
            json={"variables": {"page": 1}, "extensions": {"documentId": page_hash}},
            headers=headers,
        )
        assert shipped.json() == {"data": {"invoices": {"totalCount": 0, "items": []}}}
        other = "{ viewer { role } }"
        refused = httpx.post(f"{base}/graphql", json={"query": other}, headers=headers)
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
        sneaked = httpx.post(
            f"{base}/graphql",
            json={
                "query": other,
                "extensions": {
                    "persistedQuery": {
                        "version": 1,
                        "sha256Hash": hashlib.sha256(other.encode()).hexdigest(),
                    }
                },
            },
            headers=headers,
        )
        assert sneaked.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    finally:
        stop(process)
