"""Faults a production database and billing runs meet: the database going away and coming
back under a running server, and a billing run killed midway (kill -9) then run again."""

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from domain.bootstrap import open_database
from domain.config import settings_from_mapping
from domain.model.entities import Invoice
from domain.model.enums import Role
from domain.ops.migrations import upgrade_async
from domain.services.tokens import mint_token
from tests.conftest import TEMPLATES, _mysql_database
from tests.consistency import assert_consistent
from tests.e2e.processes import INVOICING, free_port, start_server, stop
from tests.e2e.test_redis_workers import customers_with_charges
from tests.helpers import make_charge, make_customer

LIST = "{ invoices { totalCount items { number } } }"
GENERATE = 'mutation($c: ID!) { generateInvoice(input: {customerId: $c, startDate: "2025-01-01", endDate: "2025-01-31"}) { invoice { id } errors { code } } }'


@dataclass
class PrivateMariaDB:
    """A MariaDB server of the test's own, which it may stop and start at will."""

    folder: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mysql+asyncmy://root@127.0.0.1:{self.port}/invoicing?charset=utf8mb4"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("mariadbd") or "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.folder / 'mysqld.sock'}",
                f"--pid-file={self.folder / 'mysqld.pid'}",
                f"--log-error={self.folder / 'error.log'}",
                "--innodb-buffer-pool-size=64M",
                "--skip-grant-tables",  # reachable only on 127.0.0.1, for this test alone
                *(["--user=root"] if os.geteuid() == 0 else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not self._answers():
            assert time.monotonic() < deadline, (self.folder / "error.log").read_text()
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def _answers(self) -> bool:
        import pymysql

        try:
            pymysql.connect(
                host="127.0.0.1", port=self.port, user="root", connect_timeout=1
            ).close()
        except pymysql.err.OperationalError:
            return False
        return True


@pytest.fixture
def private_mariadb(tmp_path: Path) -> Iterator[PrivateMariaDB]:
    install = shutil.which("mariadb-install-db")
    if (
        install is None
        or shutil.which("mariadbd") is None
        and not Path("/usr/sbin/mariadbd").exists()
    ):
        if os.environ.get("REQUIRE_MYSQL") == "1":
            pytest.fail("mariadb-install-db and mariadbd are required (REQUIRE_MYSQL=1)")
        pytest.skip("MariaDB's server programs are not installed")
    subprocess.run(
        [install, "--no-defaults", f"--datadir={tmp_path / 'data'}", "--skip-test-db"]
        + (["--user=root"] if os.geteuid() == 0 else []),
        check=True,
        capture_output=True,
    )
    server = PrivateMariaDB(tmp_path, free_port())
    server.start()
    import pymysql

    admin = pymysql.connect(host="127.0.0.1", port=server.port, user="root")
    admin.cursor().execute("CREATE DATABASE invoicing CHARACTER SET utf8mb4")
    admin.close()
    try:
        yield server
    finally:
        server.stop()


def _serve(url: str, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    config = tmp_path / "crm.yaml"
    config.write_text(f"invoice:\n  template_dir: {TEMPLATES}\n")
    env = {"DATABASE_URL": url, "CRM_CONFIG": str(config)}
    return start_server(env, tmp_path / "server.log")


async def test_the_server_survives_the_database_stopping_and_starting(
    private_mariadb: PrivateMariaDB, tmp_path: Path
) -> None:
    await upgrade_async(private_mariadb.url)
    settings = settings_from_mapping({"database": {"url": private_mariadb.url}})
    db = open_database(settings)
    customer = await make_customer(db, "Outage Ltd")
    await make_charge(db, customer.id, "10.00", created_at=datetime(2025, 1, 5, tzinfo=UTC))
    token = (await mint_token(db, Role.STAFF, "outage")).token
    await db.dispose()
    server, base = _serve(private_mariadb.url, tmp_path)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            assert client.post("/graphql", json={"query": LIST}).status_code == 200

            private_mariadb.stop()
            for request in (
                {"query": LIST},
                {"query": GENERATE, "variables": {"c": str(customer.id)}},
            ):
                response = client.post("/graphql", json=request)
                assert response.status_code == 503, response.text
                error = response.json()["errors"][0]
                assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                assert "Traceback" not in response.text and "SELECT" not in response.text
            assert client.get("/healthz").status_code == 503

            private_mariadb.start()
            deadline = time.monotonic() + 30
            while (response := client.post("/graphql", json={"query": LIST})).status_code != 200:
                assert time.monotonic() < deadline, response.text
                time.sleep(0.2)
            assert response.json()["data"]["invoices"]["totalCount"] == 0  # nothing half-written
            generated = client.post(
                "/graphql", json={"query": GENERATE, "variables": {"c": str(customer.id)}}
            ).json()["data"]["generateInvoice"]
            assert generated["errors"] == [] and generated["invoice"]["id"]
    finally:
        stop(server)
    db = open_database(settings)
    try:
        await assert_consistent(db)
    finally:
        await db.dispose()


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    yield from _mysql_database()


async def test_a_billing_run_killed_midway_and_run_again_bills_everyone_once(
    mariadb_url: str, tmp_path: Path
) -> None:
    customers = 400
    db = await customers_with_charges(mariadb_url, customers)
    config = tmp_path / "crm.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {TEMPLATES}\n  pdf_cache:\n    prerender_on_generate: false\n"
    )
    env = {**os.environ, "DATABASE_URL": mariadb_url, "CRM_CONFIG": str(config)}
    command = [INVOICING, "billing", "run", "--start", "2025-01-01", "--end", "2025-01-31"]
    command += ["--due", "2025-02-15"]

    async def invoices() -> int:
        async with db.read() as session:
            return (await session.execute(select(func.count(Invoice.id)))).scalar_one()

    try:
        first = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        deadline = time.monotonic() + 120
        while await invoices() < 40:
            assert first.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        done_before = await invoices()
        assert 40 <= done_before < customers

        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"{customers - done_before} invoices for "), again.stdout
        assert await invoices() == customers
        async with db.read() as session:
            per_customer = await session.execute(
                select(func.count(Invoice.id)).group_by(Invoice.customer_id)
            )
            assert set(per_customer.scalars()) == {1}
        await assert_consistent(db)
    finally:
        await db.dispose()
