"""Apollo Client 4 (npm), as frontends use it, against a real `invoicing serve`: HttpLink
with useGETForQueries, PersistedQueryLink (hash first, by GET; on not-found it sends the
query once, and the next client gets it by hash) and BatchHttpLink."""

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
    (NODE is None or not (CLIENTS / "node_modules" / "@apollo" / "client").is_dir())
    and not os.environ.get("CI"),
    reason="Node.js or tests/clients/node_modules missing (make install sets them up)",
)


def test_apollo_client_queries_by_get_persists_queries_and_batches(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'apollo.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    token = run_cli("token", "create", "--role", "staff", env=env).stdout.strip().splitlines()[-1]
    process, base = start_server(env, tmp_path / "serve.log")
    try:
        ran = subprocess.run(
            [NODE or "node", "apollo_client.mjs", f"{base}/graphql", token],
            cwd=CLIENTS,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        stop(process)
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)

    by_get = seen["get"]
    assert by_get["data"]["customers"]["totalCount"] == 0
    assert [(c["method"], c["query_in_url"]) for c in by_get["calls"]] == [("GET", True)]

    apq = seen["apq"]
    assert [d["viewer"]["role"] for d in apq["data"]] == ["STAFF", "STAFF"]
    steps = [(c["method"], c["hash_in_url"], c["with_text"]) for c in apq["calls"]]
    assert steps == [
        ("GET", True, False),  # the hash alone: not known yet (PERSISTED_QUERY_NOT_FOUND)
        ("POST", False, True),  # hash and query: registered
        ("GET", True, False),  # a new client: the hash alone now suffices
    ]
    assert apq["calls"][-1]["status"] == 200

    batch = seen["batch"]
    assert batch["data"][0]["customers"]["totalCount"] == 0
    assert batch["data"][1]["viewer"]["role"] == "STAFF"
    assert [(c["method"], c["batch"]) for c in batch["calls"]] == [("POST", True)]

    mutation = seen["mutation"]  # useGETForQueries never sends a mutation by GET
    assert mutation["data"]["createCustomer"]["customer"]["name"] == "By Apollo"
    assert [c["method"] for c in mutation["calls"]] == ["POST"]
