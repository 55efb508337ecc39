"""`make run` as a newcomer runs it: it migrates, seeds, prints a token and serves."""

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.e2e.conftest import REPO
from tests.e2e.processes import free_port


def _get(url: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


def test_make_run_serves_the_api_with_demo_data_and_a_printed_token(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CRM_CONFIG", "MAKEFLAGS", "MAKELEVEL")}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        token = None
        deadline = time.monotonic() + 180
        assert process.stdout is not None
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip().startswith("inv_"):
                token = line.strip()
        assert token, "".join(lines)

        status = None
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200 and body == {"status": "ok"}, "".join(lines)

        status, body = _get(
            f"http://127.0.0.1:{port}/graphql",
            token,
            {
                "query": "{ viewer { role } customers { totalCount } transactions(filter: {billed: false}) { totalCount }"
                " invoices { totalCount } }"
            },
        )
        assert status == 200
        assert body["data"]["viewer"] == {"role": "STAFF"}
        assert body["data"]["customers"]["totalCount"] == 9
        assert (
            0 < body["data"]["transactions"]["totalCount"] < 300
        )  # this month's charges stay unbilled
        assert body["data"]["invoices"]["totalCount"] > 0

        # The links it hands out point at this very server, whatever PORT said.
        status, body = _get(
            f"http://127.0.0.1:{port}/graphql",
            token,
            {"query": "{ invoices(perPage: 1) { items { pdfUrl } } }"},
        )
        pdf_url = body["data"]["invoices"]["items"][0]["pdfUrl"]
        assert pdf_url.startswith(f"http://127.0.0.1:{port}/crm/invoice/"), pdf_url
        request = urllib.request.Request(pdf_url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.read(5) == b"%PDF-"
        status, body = _get(f"http://127.0.0.1:{port}/")
        assert body["graphql"] == f"http://127.0.0.1:{port}/graphql"

        # Ctrl+C reaches the whole group (make, the server, its render workers): it stops
        # cleanly, without a traceback from each worker.
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
