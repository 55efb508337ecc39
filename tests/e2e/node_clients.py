"""Running the Node.js clients in tests/clients (npm packages nobody here wrote) against a
real `invoicing serve` with a fresh SQLite database and a staff token."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, run_cli
from tests.e2e.processes import start_server, stop

CLIENTS = REPO / "tests" / "clients"
NODE = shutil.which("node")


def needs(package: str) -> pytest.MarkDecorator:
    """Skip where Node.js or the package is missing, except in CI, where it must be there."""
    missing = NODE is None or not (CLIENTS / "node_modules" / package).is_dir()
    return pytest.mark.skipif(
        missing and not os.environ.get("CI"),
        reason="Node.js or tests/clients/node_modules missing (make install sets them up)",
    )


def run_against_server(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`node <script> <graphql url> <staff token>` while a server runs; its output."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'clients.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    token = run_cli("token", "create", "--role", "staff", env=env).stdout.strip().splitlines()[-1]
    process, base = start_server(env, tmp_path / "serve.log")
    try:
        ran = subprocess.run(
            [NODE or "node", script, f"{base}/graphql", token],
            cwd=CLIENTS,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        stop(process)
    assert ran.returncode == 0, ran.stderr
    return ran
