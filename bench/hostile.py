"""Hostile documents: /healthz and a real query while the 490-field document (1.5 s of
validation each, on the event loop, before the query budget; issue 15's anchor: 16 in
parallel stalled /healthz for 24 s) arrives, in bursts of 16 in parallel and as 16 clients
sending without pause. Runs `invoicing serve` on 127.0.0.1 with the budget (the default
limits) and with it lifted (as before it existed; parsing and validation still run off the
event loop), side by side, after a quiet baseline.

    .venv/bin/python bench/hostile.py [--seconds 10]

Target: /healthz under 100 ms with the budget while bursts of 16 arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._server import invoicing  # noqa: E402
from domain.bootstrap import open_database  # noqa: E402
from domain.config import settings_from_mapping  # noqa: E402
from domain.model.enums import Role  # noqa: E402
from domain.ops.migrations import upgrade  # noqa: E402
from domain.services.tokens import mint_token  # noqa: E402

HOSTILE = "{ viewer { customer { " + " ".join(["invoices { items { id } }"] * 490) + " } } }"
REAL = "{ invoices(perPage: 25) { totalCount items { id number total } } }"


async def staff_token(url: str) -> str:
    db = open_database(settings_from_mapping({"database": {"url": url}}))
    try:
        return (await mint_token(db, Role.STAFF, "bench")).token
    finally:
        await db.dispose()


def attack(base: str, token: str, mode: str, stop: Any, answers: Any) -> None:
    """16 clients sending the hostile document: all at once then waiting for every answer
    (mode "bursts"), or each again as soon as it is answered ("sustained")."""
    answered: dict[str, int] = {}
    sent = iter(range(10**9))
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}

    def send(http: httpx.Client) -> None:
        with lock:
            n = next(sent)
        # A new trailing space each time: no two documents are the same text.
        body = http.post("/graphql", json={"query": HOSTILE + " " * (n % 5000)}).json()
        code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code", "ok")
        with lock:
            answered[code] = answered.get(code, 0) + 1

    def sustained() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            while not stop.is_set():
                send(http)

    if mode == "sustained":
        threads = [threading.Thread(target=sustained) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        clients = [httpx.Client(base_url=base, headers=headers, timeout=120) for _ in range(16)]
        while not stop.is_set():
            burst = [threading.Thread(target=send, args=(c,)) for c in clients]
            for thread in burst:
                thread.start()
            for thread in burst:
                thread.join()
            time.sleep(0.5)
        for client in clients:
            client.close()
    answers.put(answered)


def run(url: str, token: str, seconds: float, budget: bool, mode: str) -> dict[str, Any]:
    config = Path(tempfile.mkdtemp()) / "hostile.yaml"
    lifted = "  max_selections: 100000\n  max_fields: 100000\n"
    config.write_text("limits:\n" + ("" if budget else lifted) + "  max_tokens: 4000\n")
    with invoicing("serve", env={"DATABASE_URL": url, "CRM_CONFIG": str(config)}) as base:
        # The attackers run in a process of their own, so that the probes below measure
        # the server, not this process's threads queueing for Python's lock.
        answers: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
        stop = multiprocessing.Event()
        attackers = None
        if mode != "quiet":
            attackers = multiprocessing.Process(
                target=attack, args=(base, token, mode, stop, answers)
            )
            attackers.start()
            time.sleep(1)
        health, real = [], []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client:
            client.post("/graphql", json={"query": REAL})  # remembered from here on

            def probe(path: str, json: dict | None = None) -> float:
                started = time.perf_counter()
                response = client.get(path) if json is None else client.post(path, json=json)
                assert response.status_code == 200, response.text
                return time.perf_counter() - started

            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                health.append(probe("/healthz"))
                real.append(probe("/graphql", {"query": REAL}))
                time.sleep(0.05)
        answered: dict[str, int] = {}
        if attackers is not None:
            stop.set()
            answered = answers.get(timeout=300)
            attackers.join()
    return {"health": health, "real": real, "answered": answered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'hostile.db'}"
    upgrade(url)
    token = asyncio.run(staff_token(url))
    rows = []
    for label, budget, mode in (
        ("quiet", True, "quiet"),
        ("bursts of 16, budget", True, "bursts"),
        ("bursts of 16, no budget", False, "bursts"),
        ("16 sustained, budget", True, "sustained"),
        ("16 sustained, no budget", False, "sustained"),
    ):
        found = run(url, token, args.seconds, budget, mode)
        health, real = found["health"], found["real"]
        rows.append(
            (
                label,
                f"{statistics.median(health) * 1000:.1f} ms",
                f"{percentile(health, 0.95) * 1000:.1f} ms",
                f"{max(health) * 1000:.1f} ms",
                f"{statistics.median(real) * 1000:.1f} ms",
                f"{max(real) * 1000:.1f} ms",
                ", ".join(f"{k} {v}" for k, v in sorted(found["answered"].items())) or "-",
            )
        )
    header = ("hostile documents", "/healthz p50", "p95", "max", "invoices p50", "max", "answers")
    print(f"\nThe 490-field document against `invoicing serve`, {args.seconds:g} s each")
    print("(anchor, before the budget: 16 in parallel stalled /healthz for 24 s)")
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  " + "  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


if __name__ == "__main__":
    main()
