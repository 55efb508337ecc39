"""Billing runs spread over `invoicing worker` processes through the real Redis, on MariaDB:
every customer billed once, every PDF rendered once, and a worker killed mid-run (kill -9)
loses nothing."""

import os
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from domain.adapters.redis_queue import RedisWorkQueue
from domain.bootstrap import open_database
from domain.config import WorkersSettings, settings_from_mapping
from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer
from domain.model.commands import BillingOrder
from domain.model.entities import Customer, Invoice, InvoicePdfCache, Transaction
from domain.model.enums import Role, TransactionKind
from domain.ops.migrations import upgrade_async
from domain.services.billing import run_billing
from domain.store.database import Database
from tests.conftest import TEMPLATES
from tests.consistency import assert_consistent
from tests.e2e.conftest import REDIS_URL
from tests.e2e.processes import INVOICING, stop

RENDERED = re.compile(r"invoice (\d+): rendered")


def environment(
    tmp_path: Path, url: str, queue: str, job_timeout: int, renderers: int = 1, max_jobs: int = 2
) -> dict[str, str]:
    config = tmp_path / "crm.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {TEMPLATES}\n  render_workers: {renderers}\n"
        f"workers:\n  backend: redis\n  redis_url: {REDIS_URL}\n  queue_name: {queue}\n"
        f"  max_jobs: {max_jobs}\n  job_timeout_seconds: {job_timeout}\n"
    )
    return {**os.environ, "DATABASE_URL": url, "CRM_CONFIG": str(config)}


async def customers_with_charges(url: str, count: int, lines: int = 2) -> Database:
    await upgrade_async(url)
    db = open_database(settings_from_mapping({"database": {"url": url}}))
    async with db.transaction() as session:
        customers = [
            Customer(name=f"Queue customer {n}", language="en", currency="USD")
            for n in range(count)
        ]
        session.add_all(customers)
        await session.flush()
        session.add_all(
            Transaction(
                kind=TransactionKind.CHARGE,
                customer_id=customer.id,
                title="Mobile plan",
                description="",
                created_at=datetime(2025, 1, 1 + day % 28, tzinfo=UTC),
                retail_cost=Decimal("20.00"),
                tax_percentage=Decimal("10"),
                tax_amount=Decimal("2.00"),
            )
            for customer in customers
            for day in range(lines)
        )
    return db


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [INVOICING, "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        start_new_session=True,  # its renderer processes die with it
    )


def billing_run(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [INVOICING, "billing", "run", "--start", "2025-01-01", "--end", "2025-01-31"]
        + ["--due", "2025-02-15"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def renders(log: Path) -> Counter[int]:
    return Counter(int(m) for m in RENDERED.findall(log.read_text()))


async def _billed_once(db: Database, customers: int) -> None:
    async with db.read() as session:
        per_customer = (
            await session.execute(select(func.count(Invoice.id)).group_by(Invoice.customer_id))
        ).scalars()
        assert sorted(set(per_customer)) == [1]
        assert (await session.execute(select(func.count(Invoice.id)))).scalar_one() == customers
        unbilled = select(func.count(Transaction.id)).where(Transaction.invoice_id.is_(None))
        assert (await session.execute(unbilled)).scalar_one() == 0
        pdfs = select(func.count(InvoicePdfCache.id))
        assert (await session.execute(pdfs)).scalar_one() == customers
    await assert_consistent(db)


async def test_two_workers_share_a_billing_run_and_render_each_pdf_once(
    mariadb_url: str, queue: str, tmp_path: Path
) -> None:
    # Enough for both workers to take a good share; the whole run's speed is bench/workers.py's.
    customers = 300
    db = await customers_with_charges(mariadb_url, customers)
    env = environment(tmp_path, mariadb_url, queue, job_timeout=60)
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    workers = [start_worker(env, log) for log in logs]
    try:
        run = billing_run(env)
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, output
        assert f"{customers} invoices for ${customers * 44:,}.00" in output
        await _billed_once(db, customers)
        per_worker = [renders(log) for log in logs]
        every = per_worker[0] + per_worker[1]
        assert len(every) == customers and set(every.values()) == {1}
        assert all(len(r) >= customers // 5 for r in per_worker), [len(r) for r in per_worker]
        # Run again: the jobs are done; nothing is billed or rendered a second time.
        again = billing_run(env)
        output, _ = again.communicate(timeout=120)
        assert again.returncode == 0 and "0 invoices" in output, output
        await _billed_once(db, customers)
        assert sum((renders(log) for log in logs), Counter()) == every
    finally:
        for worker in workers:
            stop(worker)
        await db.dispose()


async def test_a_worker_killed_mid_run_loses_nothing_and_bills_nothing_twice(
    mariadb_url: str, queue: str, tmp_path: Path
) -> None:
    customers = 40
    db = await customers_with_charges(mariadb_url, customers)
    # A dead worker's jobs go back on the queue job_timeout + 10 s after it took them.
    env = environment(tmp_path, mariadb_url, queue, job_timeout=5)
    logs = [tmp_path / "victim.log", tmp_path / "survivor.log"]
    victim = start_worker(env, logs[0])
    survivor = None
    try:
        run = billing_run(env)
        deadline = time.monotonic() + 120
        while len(renders(logs[0])) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        survivor = start_worker(env, logs[1])
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output
        assert f"{customers} invoices" in output
        await _billed_once(db, customers)
        taken_over = renders(logs[1])
        assert taken_over and not set(taken_over) & set(renders(logs[0]))
    finally:
        stop(victim)
        if survivor is not None:
            stop(survivor)
        await db.dispose()


async def test_only_staff_may_queue_a_billing_run(db: Database, settings, queue: str) -> None:
    on_redis = settings.model_copy(
        update={"workers": WorkersSettings(backend="redis", queue_name=queue)}
    )
    work = RedisWorkQueue(on_redis.workers)
    portal = Viewer(role=Role.CUSTOMER, name="portal", customer_id=1)
    try:
        with pytest.raises(DomainError) as refused:
            await run_billing(
                db,
                on_redis,
                BillingOrder(date(2025, 1, 1), date(2025, 1, 31), date(2025, 2, 15), portal),
                work,
            )
        assert refused.value.code is ErrorCode.FORBIDDEN
        assert await work.depth() == 0
    finally:
        await work.close()


class _Payload:
    """What an attacker with write access to Redis would queue: code run when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


async def test_a_pickled_job_written_into_redis_is_refused_never_run(
    mariadb_url: str, queue: str, tmp_path: Path
) -> None:
    import pickle

    await upgrade_async(mariadb_url)
    marker = tmp_path / "pwned"
    job = pickle.dumps(
        {
            "t": 1,
            "f": "render_invoice_pdf",
            "a": (_Payload(marker),),
            "k": {},
            "et": int(time.time() * 1000),
        }
    )
    client = redis.Redis.from_url(REDIS_URL)
    client.psetex(f"arq:job:evil-{queue}", 60_000, job)
    client.zadd(queue, {f"evil-{queue}": time.time() * 1000})
    log = tmp_path / "worker.log"
    worker = start_worker(environment(tmp_path, mariadb_url, queue, job_timeout=5), log)
    try:
        # The queue also holds the workers' own periodic jobs: look for this one.
        evil = f"evil-{queue}"
        deadline = time.monotonic() + 30
        while client.zscore(queue, evil) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        assert client.zscore(queue, evil) is None, "the worker never took the job"
        assert not marker.exists(), "the pickled payload ran"
        assert "evil-" in log.read_text()
    finally:
        stop(worker)
        client.close()


async def test_a_billing_run_counts_a_failed_or_vanished_job_as_not_billed(
    queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run collects every result in one round trip a round; a job whose worker failed,
    or that left the queue without a result, is that customer's failure, not a hang."""
    import asyncio

    from arq.constants import result_key_prefix
    from arq.jobs import serialize_result

    from domain.adapters import redis_queue
    from domain.ports import BillingJob

    monkeypatch.setattr(redis_queue, "RESULTS_POLL_SECONDS", 0.02)
    monkeypatch.setattr(redis_queue, "LOST_CHECK_ROUNDS", 5)
    work = RedisWorkQueue(WorkersSettings(redis_url=REDIS_URL, queue_name=queue))
    jobs = [
        BillingJob("run-x", customer, date(2025, 1, 1), date(2025, 1, 31), date(2025, 2, 15), "ops")
        for customer in (1, 2, 3)
    ]
    progress: list[int] = []
    running = asyncio.create_task(work.bill(jobs, progress.append))
    await asyncio.sleep(0.2)
    client = redis.Redis.from_url(REDIS_URL)
    ids = [f"{queue}:bill:run-x:{customer}" for customer in (1, 2, 3)]

    def result(job_id: str, success: bool, value: object) -> bytes:
        stored = serialize_result(
            "bill_customer",
            (),
            {},
            1,
            0,
            success,
            value,
            0,
            0,
            "ref",
            queue,
            job_id,
            serializer=redis_queue._serialize,
        )
        assert stored is not None
        return stored

    billed = {"customer_id": 1, "outcome": "billed", "invoice_id": 7, "code": None, "message": None}
    client.set(result_key_prefix + ids[0], result(ids[0], True, billed))
    client.set(result_key_prefix + ids[1], result(ids[1], False, RuntimeError("worker died")))
    client.zrem(queue, ids[2])  # gone: no worker will run it, no result will come
    outcomes = await asyncio.wait_for(running, timeout=10)
    client.close()
    await work.close()
    assert [(o.customer_id, o.outcome) for o in outcomes] == [
        (1, "billed"),
        (2, "failed"),
        (3, "failed"),
    ]
    assert outcomes[0].invoice_id == 7 and "try again" in (outcomes[2].message or "")
    assert sorted(progress) == [1, 2, 3]
