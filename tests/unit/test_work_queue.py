"""The local work queue runs billing jobs in order and renders in the background; jobs
travel as plain JSON values and nothing else is accepted."""

import asyncio
from datetime import date

import pytest

from domain.adapters.local_queue import LocalWorkQueue
from domain.ports import BillingJob, BillOutcome, TryLater
from tests.fakes.ports import FakeJobs


def job(customer_id: int) -> BillingJob:
    return BillingJob(
        "run-1", customer_id, date(2025, 1, 1), date(2025, 1, 31), date(2025, 2, 15), "ops"
    )


async def test_billing_jobs_run_in_order_and_a_failing_one_loses_no_other() -> None:
    jobs = FakeJobs(
        {
            1: BillOutcome(1, "billed", invoice_id=101),
            2: RuntimeError("connection reset"),
            3: TryLater(),
            4: BillOutcome(4, "skipped"),
        }
    )
    queue = LocalWorkQueue(jobs)
    progress: list[int] = []
    outcomes = await queue.bill([job(1), job(2), job(3), job(4)], progress.append)
    assert [o.outcome for o in outcomes] == ["billed", "failed", "failed", "skipped"]
    assert outcomes[1].code == "CONFLICT" and "try again" in (outcomes[1].message or "")
    assert progress == [1, 2, 3, 4]
    await queue.close()
    assert jobs.rendered == [101]


async def test_renders_wait_in_the_background_until_the_queue_closes() -> None:
    jobs = FakeJobs({})
    jobs.render_gate.clear()
    queue = LocalWorkQueue(jobs)
    await queue.prerender([7, 8])
    assert await queue.depth() == 1 and jobs.rendered == []
    jobs.render_gate.set()
    await asyncio.wait_for(queue.close(), 5)
    assert jobs.rendered == [7, 8] and await queue.depth() == 0


async def test_nothing_is_rendered_ahead_when_prerendering_is_off() -> None:
    jobs = FakeJobs({})
    queue = LocalWorkQueue(jobs, prerender=False)
    await queue.prerender([7])
    await queue.close()
    assert jobs.rendered == []


def test_a_billing_job_round_trips_as_json_and_refuses_anything_else() -> None:
    original = job(42)
    assert BillingJob.from_json(original.as_json()) == original
    for bad in (
        {**original.as_json(), "extra": "os.system"},
        {**original.as_json(), "customer_id": "42"},
        {**original.as_json(), "customer_id": True},
        {**original.as_json(), "start": "yesterday"},
    ):
        with pytest.raises(ValueError):
            BillingJob.from_json(bad)


def test_an_outcome_round_trips_as_json_and_refuses_unknown_outcomes() -> None:
    billed = BillOutcome(3, "billed", invoice_id=9)
    assert BillOutcome.from_json(billed.as_json()) == billed
    with pytest.raises(ValueError):
        BillOutcome.from_json({**billed.as_json(), "outcome": "pwned"})


def test_a_redis_worker_looks_for_jobs_as_often_as_configured() -> None:
    """arq starts new jobs only at its poll ticks once max_jobs run: its 0.5 s default
    held a billing run's quick jobs to max_jobs every half second."""
    from domain.adapters.redis_queue import build_worker
    from domain.config import settings_from_mapping

    async def open_jobs():
        raise AssertionError("not started here")

    for seconds in (0.05, 0.2):
        settings = settings_from_mapping({"workers": {"poll_seconds": seconds}})
        worker = build_worker(settings.workers, open_jobs, render_after_billing=True)
        assert worker.poll_delay_s == seconds
    assert settings_from_mapping({}).workers.poll_seconds == 0.05
