"""The long fuzz: every query and mutation, generated from the schema, over HTTP against a
real `invoicing serve`, as staff and as a customer, with fresh random inputs each run
(the suite replays a bounded, fixed set: tests/e2e/test_fuzz.py).

    .venv/bin/python bench/fuzz.py [--examples 1000] [--database sqlite|mariadb]

Stops at the first bad answer (printing the operation and the answer); otherwise prints
how many operations of each kind were sent, how they were answered, and how long it took,
then checks the database is still consistent.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pymysql
from hypothesis import HealthCheck, given, seed, settings

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fuzz import fuzz_server, operations, others_data, server_failures  # noqa: E402


def fuzz(
    client: httpx.Client, token: str, kind: str, as_customer: bool, examples: int, run_seed: int
) -> Counter:
    answers: Counter[str] = Counter()

    @seed(run_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation=operations(kind))
    def one(operation: str) -> None:
        response = client.post(
            "/graphql", json={"query": operation}, headers={"Authorization": f"Bearer {token}"}
        )
        assert server_failures(response) == [], f"{operation}\n=> {response.text}"
        if as_customer:
            assert others_data(response) == [], f"{operation}\n=> {response.text}"
        errors = response.json().get("errors")
        answers[errors[0].get("extensions", {}).get("code", "invalid") if errors else "ok"] += 1

    one()
    return answers


def main(examples: int, database: str) -> None:
    run_seed = secrets.randbits(32)
    print(f"seed {run_seed} (a failure prints the operation that caused it)")
    folder = Path(tempfile.mkdtemp())
    name = f"invoicing_fuzz_{secrets.token_hex(3)}"
    if database == "mariadb":
        admin = pymysql.connect(host="127.0.0.1", user="root")
        admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        url = f"mysql+asyncmy://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    else:
        url = f"sqlite+aiosqlite:///{folder / 'fuzz.db'}"
    rows = []
    try:
        with fuzz_server(url, folder) as (client, target):
            for kind in ("query", "mutation"):
                for role, token in (
                    ("staff", target.staff_token),
                    ("customer", target.customer_token),
                ):
                    started = time.perf_counter()
                    answers = fuzz(client, token, kind, role == "customer", examples, run_seed)
                    rows.append((kind, role, answers, time.perf_counter() - started))
    finally:
        if database == "mariadb":
            admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
    print(
        f"\nFuzzed over HTTP ({database}): no 5xx, no unexpected error, no leak; consistent after"
    )
    print(
        f"  {'operations':10s} {'as':9s} {'sent':>6s} {'seconds':>8s}  answers (first error code)"
    )
    for kind, role, answers, seconds in rows:
        common = ", ".join(f"{code} {count}" for code, count in answers.most_common(6))
        print(f"  {kind:10s} {role:9s} {sum(answers.values()):6d} {seconds:8.1f}  {common}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "mariadb"], default="sqlite")
    arguments = parser.parse_args()
    main(arguments.examples, arguments.database)
