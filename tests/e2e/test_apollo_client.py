"""Apollo Client 4 (npm), as frontends use it, against a real `invoicing serve`: HttpLink
with useGETForQueries, PersistedQueryLink (hash first, by GET; on not-found it sends the
query once, and the next client gets it by hash) and BatchHttpLink."""

import json
from pathlib import Path

from tests.e2e.node_clients import needs, run_against_server

pytestmark = needs("@apollo/client")


def test_apollo_client_queries_by_get_persists_queries_and_batches(tmp_path: Path) -> None:
    ran = run_against_server("apollo_client.mjs", tmp_path)
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
