"""The work queue on Redis, through arq: the API and `invoicing billing run` enqueue jobs,
`invoicing worker` processes (on any machine that reaches Redis and the database) do them.

arq keeps a job on the queue until it finishes and marks it taken with a key that expires
`job_timeout_seconds + 10` s later, so a worker killed mid-job loses nothing: another
worker takes the job once the mark expires. Jobs are written to be run twice safely:
billing a customer carries an idempotency key (a second run answers the first invoice),
and a PDF is rendered only when the cache has no current one (under a database lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from arq import Retry, create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.jobs import Job
from arq.worker import Worker, func

from domain import invoices
from domain.access import SYSTEM, Viewer
from domain.billing import BillingRun, GenerateRequest, billing_targets, generate_invoice
from domain.config import Settings, WorkersSettings
from domain.db import DATABASE_UNAVAILABLE, Database
from domain.errors import DomainError, ErrorCode
from domain.models import Role
from domain.work_queue import BillingOrder

log = logging.getLogger("invoicing.worker")

# Results are kept so that a billing run started again finds the jobs it already queued.
KEEP_RESULTS_SECONDS = 24 * 3600


def redis_settings(workers: WorkersSettings) -> RedisSettings:
    return RedisSettings.from_dsn(workers.redis_url.get_secret_value())


class RedisWorkQueue:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.workers = settings.workers
        self._pool: ArqRedis | None = None

    async def _redis(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(
                redis_settings(self.workers), default_queue_name=self.workers.queue_name
            )
        return self._pool

    async def prerender(self, invoice_ids: Sequence[int]) -> None:
        redis = await self._redis()
        for invoice_id in invoice_ids:
            await redis.enqueue_job("render_invoice_pdf", invoice_id)

    async def run_billing(
        self,
        order: BillingOrder,
        customer_ids: Sequence[int] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> BillingRun:
        period, targets = await billing_targets(
            self.db, self.settings, order.operator, order.start, order.end, order.due, customer_ids
        )
        redis = await self._redis()
        jobs: list[tuple[int, Job]] = []
        for customer_id in targets:
            # One job id per customer and period: a run started again (after a crash, say)
            # finds the jobs already queued or done instead of queueing them twice.
            job_id = f"{self.workers.queue_name}:bill:{period.start}:{period.end}:{customer_id}"
            job = await redis.enqueue_job(
                "bill_customer",
                customer_id,
                period.start.isoformat(),
                period.end.isoformat(),
                order.due.isoformat(),
                order.operator.name,
                _job_id=job_id,
            ) or Job(job_id, redis, _queue_name=self.workers.queue_name)
            jobs.append((customer_id, job))

        async def outcome(customer_id: int, job: Job) -> tuple[int, dict[str, Any]]:
            try:
                result = await job.result(timeout=None, poll_delay=0.2)
            except Exception as error:  # the job itself failed: a timeout, a crash
                log.error("billing customer %s failed in its worker: %r", customer_id, error)
                result = {
                    "outcome": "failed",
                    "code": ErrorCode.CONFLICT.value,
                    "message": f"Customer {customer_id} could not be billed; try again.",
                }
            if on_progress is not None:
                on_progress(customer_id)
            return customer_id, result

        run = BillingRun()
        invoice_ids: list[int] = []
        for customer_id, result in await asyncio.gather(*(outcome(c, j) for c, j in jobs)):
            if result["outcome"] == "billed":
                invoice_ids.append(result["invoice_id"])
            elif result["outcome"] == "skipped":
                run.skipped_customer_ids.append(customer_id)
            else:
                run.failures.append(
                    (customer_id, DomainError(ErrorCode(result["code"]), result["message"]))
                )
        found = await invoices.invoices_by_id(self.db, invoice_ids)
        run.invoices = [found[i] for i in invoice_ids]
        return run

    async def depth(self) -> int:
        return int(await (await self._redis()).zcard(self.workers.queue_name))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


# --- the worker's side --------------------------------------------------------------


async def bill_customer(
    ctx: dict[str, Any], customer_id: int, start: str, end: str, due: str, operator: str
) -> dict[str, Any]:
    """Bill one customer for the period, then render the invoice's PDF."""
    from domain.runtime import Runtime

    runtime: Runtime = ctx["runtime"]
    request = GenerateRequest(
        customer_id=customer_id,
        start_date=date.fromisoformat(start),
        end_date=date.fromisoformat(end),
        due_date=date.fromisoformat(due),
        idempotency_key=f"billing-run:{start}:{end}:{customer_id}",
    )
    staff = Viewer(role=Role.STAFF, name=operator)
    try:
        invoice = await generate_invoice(runtime.db, runtime.settings, staff, request)
        await runtime.pdfs.get(SYSTEM, invoice.id)
    except DomainError as error:
        if error.code is ErrorCode.NO_TRANSACTIONS:
            return {"outcome": "skipped"}
        log.warning("billing customer %s failed: %s", customer_id, error.message)
        return {"outcome": "failed", "code": error.code.value, "message": error.message}
    except DATABASE_UNAVAILABLE as error:
        # The database is away: try again later rather than fail the customer's billing.
        log.warning("billing customer %s: database unavailable (%s); retrying", customer_id, error)
        raise Retry(defer=5) from None
    log.info("customer %s: billed as invoice %s", customer_id, invoice.id)
    return {"outcome": "billed", "invoice_id": invoice.id}


async def render_invoice_pdf(ctx: dict[str, Any], invoice_id: int) -> None:
    from domain.runtime import Runtime

    runtime: Runtime = ctx["runtime"]
    try:
        await runtime.pdfs.get(SYSTEM, invoice_id)
    except DomainError as error:
        log.warning("pre-rendering invoice %s failed: %s", invoice_id, error.message)
    except DATABASE_UNAVAILABLE:
        raise Retry(defer=5) from None


def build_worker(settings: Settings) -> Worker:
    """An arq worker doing this project's jobs with its own runtime (database, renderer)."""
    from domain.runtime import Runtime

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["runtime"] = Runtime.open(settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        runtime = ctx.get("runtime")
        if runtime is not None:
            await runtime.close()

    workers = settings.workers
    return Worker(
        functions=[func(bill_customer), func(render_invoice_pdf)],  # type: ignore[list-item]
        redis_settings=redis_settings(workers),
        queue_name=workers.queue_name,
        max_jobs=workers.max_jobs,
        job_timeout=workers.job_timeout_seconds,
        max_tries=workers.max_tries,
        keep_result=KEEP_RESULTS_SECONDS,
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=True,
    )
