"""The WorkQueue port on Redis through arq: the API and `invoicing billing run` enqueue jobs,
`invoicing worker` processes (on any machine that reaches Redis and the database) run them.

Jobs and their results travel as JSON of plain values (ids, dates, names), never pickle:
whoever can write to Redis can queue a job, but not run code on the workers. Each job is
read back through its port type (`BillingJob.from_json`), which refuses anything else.

arq keeps a job on the queue until it finishes and marks it taken with a key that expires
`job_timeout_seconds + 10` s later, so a worker killed mid-job loses nothing: another
worker takes the job once the mark expires. Jobs are safe to run twice: billing a customer
carries an idempotency key (a second run answers the first invoice), and a PDF is rendered
only when the cache has no current one (under a database lock).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from itertools import islice
from typing import Any

from arq import Retry, create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix, result_key_prefix
from arq.cron import cron
from arq.jobs import JobResult, deserialize_result
from arq.worker import Worker, func

from domain.config import WorkersSettings
from domain.errors import ErrorCode
from domain.ports import BillingJob, BillOutcome, Jobs, TryLater

log = logging.getLogger("invoicing.worker")

# Results are kept so that a billing run's waiting caller can collect them.
KEEP_RESULTS_SECONDS = 24 * 3600
RETRY_AFTER_SECONDS = 5
# A billing run collects its jobs' results this often, and every LOST_CHECK_ROUNDS rounds
# looks for jobs that vanished without one.
RESULTS_POLL_SECONDS = 0.2
RESULTS_WINDOW = 1000
LOST_CHECK_ROUNDS = 25


def _serialize(data: dict[str, Any]) -> bytes:
    # Jobs hold plain values only; a failed job's result (an exception) is kept as text.
    return json.dumps(data, separators=(",", ":"), default=_as_text).encode()


def _as_text(value: object) -> str:
    return f"{type(value).__name__}: {value}"


def _deserialize(data: bytes) -> dict[str, Any]:
    loaded = json.loads(data)
    if not isinstance(loaded, dict):
        raise ValueError("a queued job is a JSON object")
    return loaded


def _every(seconds: float, job: Any, name: str) -> Any:
    """An arq cron job run every `seconds`, to the nearest whole second or minute."""
    if seconds < 60:
        return cron(job, name=name, second=set(range(0, 60, max(1, round(seconds)))))
    minutes = set(range(0, 60, max(1, round(seconds / 60))))
    return cron(job, name=name, minute=minutes, second=0)


def _could_not_bill(job: BillingJob) -> BillOutcome:
    return BillOutcome(
        job.customer_id,
        "failed",
        code=ErrorCode.CONFLICT.value,
        message=f"Customer {job.customer_id} could not be billed; try again.",
    )


def _outcome(job: BillingJob, result: JobResult) -> BillOutcome:
    """A finished job's outcome; a job that failed (a timeout, a crash) could not bill."""
    if result.success:
        try:
            return BillOutcome.from_json(result.result)
        except (TypeError, ValueError) as error:
            log.error(
                "billing customer %s: a result that is no outcome: %s", job.customer_id, error
            )
            return _could_not_bill(job)
    log.error("billing customer %s failed in its worker: %s", job.customer_id, result.result)
    return _could_not_bill(job)


async def _lost(redis: ArqRedis, queue_name: str, job_ids: list[str]) -> list[str]:
    """Jobs neither queued, running nor finished: gone without a result (expired)."""
    async with redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.zscore(queue_name, job_id)
            pipe.exists(in_progress_key_prefix + job_id, result_key_prefix + job_id)
        answers = await pipe.execute()
    return [
        job_id
        for job_id, score, present in zip(job_ids, answers[::2], answers[1::2], strict=True)
        if score is None and not present
    ]


def redis_settings(workers: WorkersSettings) -> RedisSettings:
    return RedisSettings.from_dsn(workers.redis_url.get_secret_value())


class RedisWorkQueue:
    def __init__(self, workers: WorkersSettings, *, prerender: bool = True) -> None:
        self.workers = workers
        self.prerender_enabled = prerender
        self._pool: ArqRedis | None = None

    async def _redis(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(
                redis_settings(self.workers),
                default_queue_name=self.workers.queue_name,
                job_serializer=_serialize,
                job_deserializer=_deserialize,
            )
        return self._pool

    async def prerender(self, invoice_ids: Sequence[int]) -> None:
        if not self.prerender_enabled:
            return
        redis = await self._redis()
        for invoice_id in invoice_ids:
            await redis.enqueue_job("render_invoice_pdf", int(invoice_id))

    async def bill(
        self, jobs: Sequence[BillingJob], on_progress: Callable[[int], None] | None = None
    ) -> list[BillOutcome]:
        redis = await self._redis()
        waiting: dict[str, tuple[int, BillingJob]] = {}
        for index, job in enumerate(jobs):
            # One job id per run and customer: a retried enqueue finds the job already there.
            job_id = f"{self.workers.queue_name}:bill:{job.run_id}:{job.customer_id}"
            await redis.enqueue_job("bill_customer", job.as_json(), _job_id=job_id)
            waiting[job_id] = (index, job)
        outcomes: list[BillOutcome | None] = [None] * len(jobs)
        # All the results in one round trip a round: a waiter per job, polling on its own,
        # put thousands of Redis calls a second on the machine the workers render on.
        rounds = 0
        while waiting:
            rounds += 1
            sweep = rounds % LOST_CHECK_ROUNDS == 0
            # Jobs finish about in the order they were queued: the oldest waiting ones are
            # looked at each round, all of them now and then (a retried job finishes late).
            ids = list(waiting) if sweep else list(islice(waiting, RESULTS_WINDOW))
            for start in range(0, len(ids), RESULTS_WINDOW):
                chunk = ids[start : start + RESULTS_WINDOW]
                found = await redis.mget([result_key_prefix + job_id for job_id in chunk])
                for job_id, stored in zip(chunk, found, strict=True):
                    if stored is not None:
                        index, job = waiting.pop(job_id)
                        result = deserialize_result(stored, deserializer=_deserialize)
                        outcomes[index] = _outcome(job, result)
                        if on_progress is not None:
                            on_progress(job.customer_id)
            if waiting and sweep:
                for job_id in await _lost(redis, self.workers.queue_name, list(waiting)):
                    index, job = waiting.pop(job_id)
                    log.error(
                        "billing customer %s: its job left the queue without a result",
                        job.customer_id,
                    )
                    outcomes[index] = _could_not_bill(job)
                    if on_progress is not None:
                        on_progress(job.customer_id)
            if waiting:
                await asyncio.sleep(RESULTS_POLL_SECONDS)
        return [outcome for outcome in outcomes if outcome is not None]

    async def depth(self) -> int:
        return int(await (await self._redis()).zcard(self.workers.queue_name))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


def build_worker(
    workers: WorkersSettings,
    open_jobs: Callable[[], Awaitable[tuple[Jobs, Callable[[], Awaitable[None]]]]],
    *,
    render_after_billing: bool,
    reconcile_every_seconds: float = 60,
    beside: Callable[[Jobs], Coroutine[Any, Any, None]] | None = None,
) -> Worker:
    """An arq worker running `Jobs` (opened at start-up, closed at shutdown), the periodic
    reconciliation of payments whose outcome was lost, and `beside(jobs)` as a task of its
    own for as long as the worker runs (the webhook rounds: queued behind a billing run's
    thousand jobs, a round would wait for all of them)."""

    async def bill_customer(ctx: dict[str, Any], payload: dict[str, object]) -> dict[str, Any]:
        jobs: Jobs = ctx["jobs"]
        try:
            outcome = await jobs.bill_customer(BillingJob.from_json(payload))
            if render_after_billing and outcome.invoice_id is not None:
                await jobs.render_invoice_pdf(outcome.invoice_id)
        except TryLater:
            raise Retry(defer=RETRY_AFTER_SECONDS) from None
        return outcome.as_json()

    async def render_invoice_pdf(ctx: dict[str, Any], invoice_id: object) -> None:
        if not isinstance(invoice_id, int) or isinstance(invoice_id, bool):
            raise ValueError(f"not an invoice id: {invoice_id!r}")
        try:
            await ctx["jobs"].render_invoice_pdf(invoice_id)
        except TryLater:
            raise Retry(defer=RETRY_AFTER_SECONDS) from None

    async def reconcile_payments(ctx: dict[str, Any]) -> None:
        await ctx["jobs"].reconcile_payments()

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["jobs"], ctx["close"] = await open_jobs()
        if beside is not None:
            ctx["beside"] = asyncio.create_task(beside(ctx["jobs"]))

    async def shutdown(ctx: dict[str, Any]) -> None:
        running = ctx.get("beside")
        if running is not None:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        close = ctx.get("close")
        if close is not None:
            await close()

    return Worker(
        functions=[
            func(bill_customer, name="bill_customer"),
            func(render_invoice_pdf, name="render_invoice_pdf"),
        ],
        # One run at a time across all workers (arq's cron jobs are unique by default).
        cron_jobs=[_every(reconcile_every_seconds, reconcile_payments, "reconcile_payments")],
        redis_settings=redis_settings(workers),
        queue_name=workers.queue_name,
        max_jobs=workers.max_jobs,
        # arq starts jobs only at its poll ticks once max_jobs run: with its 0.5 s default, a
        # billing run's quick jobs waited for the tick as long as they ran.
        poll_delay=workers.poll_seconds,
        job_timeout=workers.job_timeout_seconds,
        max_tries=workers.max_tries,
        keep_result=KEEP_RESULTS_SECONDS,
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=True,
        job_serializer=_serialize,
        job_deserializer=_deserialize,
    )
