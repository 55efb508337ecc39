"""The PDF cache: hit, miss, invalidation by key, one render per flight, pruning."""

import asyncio
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from domain.adapters.local_queue import LocalWorkQueue
from domain.adapters.weasyprint_pool import WeasyPrintPool
from domain.bootstrap import Runtime
from domain.config import Settings, settings_from_mapping
from domain.errors import DomainError, ErrorCode
from domain.model.access import SYSTEM, Viewer
from domain.model.commands import GenerateRequest, PaymentRequest
from domain.model.entities import InvoicePdfCache
from domain.model.enums import PaymentMethodKind, Role
from domain.rendering.renderer import DocumentRenderer
from domain.services import billing
from domain.services.invoice_pdfs import InvoicePdfs
from domain.services.payments.manual import pay_by_hand
from domain.services.voiding import void_invoice
from domain.store.database import Database
from domain.worker import RuntimeJobs
from tests.conftest import TEMPLATES
from tests.helpers import make_charge, make_customer
from tests.pdf.test_rendering import pdf_pages


class CountingRenderer(WeasyPrintPool):
    """The real renderer, counting how often it is asked."""

    def __init__(self, inner: WeasyPrintPool) -> None:
        super().__init__()
        self.inner = inner
        self.calls = 0

    async def render(self, html, base_dir, embedded=None):
        self.calls += 1
        return await self.inner.render(html, base_dir, embedded)


def pdfs_with(
    runtime: Runtime, db: Database, **invoice_settings
) -> tuple[InvoicePdfs, CountingRenderer]:
    settings: Settings = settings_from_mapping(
        {
            "invoice": {"template_dir": str(TEMPLATES), **invoice_settings},
            "database": {"url": runtime.settings.database.url},
        }
    )
    renderer = CountingRenderer(runtime.renderer)
    return InvoicePdfs(
        db, settings, DocumentRenderer(settings, renderer), runtime.metrics
    ), renderer


async def invoice_for(
    db: Database, settings: Settings, name: str = "Acme Logistics", language: str = "en"
) -> int:
    customer = await make_customer(db, name, language)
    await make_charge(
        db,
        customer.id,
        "100.00",
        tax="10",
        title="Internet January",
        created_at=datetime(2025, 1, 5, tzinfo=UTC),
    )
    request = GenerateRequest(
        customer_id=customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
    )
    return (await billing.generate_invoice(db, settings, SYSTEM, request)).id


async def test_the_first_download_renders_and_later_ones_hit(
    db: Database, runtime: Runtime
) -> None:
    pdfs, renderer = pdfs_with(runtime, db)
    invoice_id = await invoice_for(db, runtime.settings)
    first = await pdfs.get(SYSTEM, invoice_id)
    second = await pdfs.get(SYSTEM, invoice_id)
    assert (first.hit, second.hit, renderer.calls) == (False, True, 1)
    assert first.data == second.data and first.sha256 == second.sha256
    assert first.filename == f"Invoice_{invoice_id:05d}.pdf"
    async with db.read() as session:
        row = (await session.execute(select(InvoicePdfCache))).scalar_one()
    assert (row.invoice_id, row.sha256, row.size_bytes) == (
        invoice_id,
        first.sha256,
        len(first.data),
    )


async def test_voiding_or_paying_gives_a_new_pdf(db: Database, runtime: Runtime) -> None:
    pdfs, renderer = pdfs_with(runtime, db)
    voided = await invoice_for(db, runtime.settings)
    paid = await invoice_for(db, runtime.settings, "Globex")
    before = (await pdfs.get(SYSTEM, voided)).sha256
    await void_invoice(db, SYSTEM, voided)
    after = await pdfs.get(SYSTEM, voided)
    assert not after.hit and after.sha256 != before and "VOID" in " ".join(pdf_pages(after.data))

    await pdfs.get(SYSTEM, paid)
    await pay_by_hand(db, SYSTEM, PaymentRequest(paid, PaymentMethodKind.CASH, "cash"))
    settled = await pdfs.get(SYSTEM, paid)
    assert not settled.hit and "PAID" in " ".join(pdf_pages(settled.data))
    assert renderer.calls == 4


async def test_editing_the_template_gives_a_new_pdf(
    db: Database, runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    settings = settings_from_mapping({"invoice": {"template_dir": str(folder)}})
    pdfs = InvoicePdfs(db, settings, DocumentRenderer(settings, runtime.renderer), runtime.metrics)
    invoice_id = await invoice_for(db, runtime.settings)
    assert not (await pdfs.get(SYSTEM, invoice_id)).hit
    assert (await pdfs.get(SYSTEM, invoice_id)).hit
    template = folder / "norfone_invoice_template.html"
    template.write_text(
        template.read_text().replace('"bill_to": "Bill to"', '"bill_to": "Invoiced to"')
    )
    changed = await pdfs.get(SYSTEM, invoice_id)
    assert not changed.hit and "INVOICED TO" in " ".join(pdf_pages(changed.data)).upper()
    css = folder / "norfone" / "invoice.css"
    css.write_text(css.read_text() + "\nh1 { color: #000000; }\n")
    assert not (await pdfs.get(SYSTEM, invoice_id)).hit


async def test_simultaneous_first_downloads_render_once(db: Database, runtime: Runtime) -> None:
    pdfs, renderer = pdfs_with(runtime, db)
    invoice_id = await invoice_for(db, runtime.settings)
    results = await asyncio.gather(*(pdfs.get(SYSTEM, invoice_id) for _ in range(6)))
    assert renderer.calls == 1
    assert len({result.sha256 for result in results}) == 1


async def test_a_generated_invoice_is_prerendered_in_the_background(
    db: Database, runtime: Runtime
) -> None:
    pdfs, renderer = pdfs_with(runtime, db, pdf_cache={"prerender_on_generate": True})
    invoice_id = await invoice_for(db, runtime.settings)
    jobs = RuntimeJobs(
        db, pdfs.settings, pdfs, runtime.cards, runtime.metrics, runtime.webhooks, runtime.mail
    )
    queue = LocalWorkQueue(jobs, prerender=True)
    await queue.prerender([invoice_id])
    await queue.close()
    assert renderer.calls == 1
    assert (await pdfs.get(SYSTEM, invoice_id)).hit


async def test_a_customer_gets_only_its_own_pdf(db: Database, runtime: Runtime) -> None:
    pdfs, _ = pdfs_with(runtime, db)
    invoice_id = await invoice_for(db, runtime.settings)
    stranger = Viewer(role=Role.CUSTOMER, name="portal", customer_id=424242)
    with pytest.raises(DomainError) as refused:
        await pdfs.get(stranger, invoice_id)
    assert refused.value.code is ErrorCode.NOT_FOUND


async def test_a_broken_template_fails_with_its_line(
    db: Database, runtime: Runtime, tmp_path: Path
) -> None:
    (tmp_path / "broken.html").write_text(
        "<p>{{ invoice_number }}</p>\n<p>{{ client.adress.city }}</p>\n"
    )
    settings = settings_from_mapping(
        {"invoice": {"template_dir": str(tmp_path), "template_filename": "broken.html"}}
    )
    pdfs = InvoicePdfs(db, settings, DocumentRenderer(settings, runtime.renderer), runtime.metrics)
    invoice_id = await invoice_for(db, runtime.settings)
    with pytest.raises(DomainError) as failed:
        await pdfs.get(SYSTEM, invoice_id)
    assert failed.value.code is ErrorCode.PDF_RENDER_FAILED
    assert "broken.html, line 2" in failed.value.message and "adress" in failed.value.message


async def _cache_rows(db: Database, pdfs: InvoicePdfs, count: int) -> list[int]:
    ids = [await invoice_for(db, pdfs.settings, f"Customer {i}") for i in range(count)]
    for invoice_id in ids:
        await pdfs.get(SYSTEM, invoice_id)
    return ids


async def _age(
    db: Database, invoice_id: int, created_days: int, accessed_days: int, size: int | None = None
) -> None:
    now = datetime.now(UTC)
    values = {
        "created_at": now - timedelta(days=created_days),
        "last_accessed": now - timedelta(days=accessed_days),
    }
    if size is not None:
        values["size_bytes"] = size
    async with db.transaction() as session:
        await session.execute(
            update(InvoicePdfCache).where(InvoicePdfCache.invoice_id == invoice_id).values(**values)
        )


async def _cached_ids(db: Database) -> list[int]:
    async with db.read() as session:
        return sorted((await session.execute(select(InvoicePdfCache.invoice_id))).scalars())


async def test_prune_drops_old_idle_and_least_recently_used_beyond_the_cap(
    db: Database, runtime: Runtime
) -> None:
    pdfs, _ = pdfs_with(
        runtime, db, pdf_cache={"max_age_days": 90, "max_idle_days": 30, "max_total_mb": 1}
    )
    old, idle, lru, recent, fresh = await _cache_rows(db, pdfs, 5)
    await _age(db, old, created_days=91, accessed_days=1)
    await _age(db, idle, created_days=40, accessed_days=31)
    await _age(db, lru, created_days=10, accessed_days=9, size=600_000)
    await _age(db, recent, created_days=10, accessed_days=2, size=500_000)
    await _age(db, fresh, created_days=1, accessed_days=0, size=20_000)
    report = await pdfs.prune()
    assert (report.too_old, report.idle, report.over_size) == (1, 1, 1)
    assert report.bytes_freed >= 600_000
    assert await _cached_ids(db) == [recent, fresh]


async def test_clear_drops_one_or_all(db: Database, runtime: Runtime) -> None:
    pdfs, _ = pdfs_with(runtime, db)
    first, second = await _cache_rows(db, pdfs, 2)
    assert await pdfs.clear(SYSTEM, first) == 1
    assert await _cached_ids(db) == [second]
    assert await pdfs.clear(SYSTEM) == 1
    assert await _cached_ids(db) == []
    with pytest.raises(DomainError) as refused:
        await pdfs.clear(Viewer(role=Role.CUSTOMER, name="p", customer_id=1))
    assert refused.value.code is ErrorCode.FORBIDDEN


async def test_a_draft_is_rendered_once_per_render_key_and_kept_a_while(
    db: Database, runtime: Runtime
) -> None:
    from tests.pdf.documents import document

    pdfs, renderer = pdfs_with(runtime, db)
    staff = Viewer(role=Role.STAFF, name="desk", token_id=1)
    first, again = await asyncio.gather(*(pdfs.draft(staff, document(lines=5)) for _ in range(2)))
    assert first == again and renderer.calls == 1
    assert await pdfs.draft(staff, document(lines=5)) == first and renderer.calls == 1
    await pdfs.draft(staff, document(lines=6))
    assert renderer.calls == 2


async def test_one_viewer_may_have_only_so_many_renders_in_flight(
    db: Database, runtime: Runtime
) -> None:
    from tests.pdf.documents import document

    pdfs, _ = pdfs_with(runtime, db, renders_per_viewer=2)
    flooder = Viewer(role=Role.CUSTOMER, name="portal 1", customer_id=1, token_id=11)
    other = Viewer(role=Role.CUSTOMER, name="portal 2", customer_id=2, token_id=12)
    drafts = [pdfs.draft(flooder, document(lines=40 + n)) for n in range(5)]
    outcomes = await asyncio.gather(
        *drafts, pdfs.draft(other, document(lines=3)), return_exceptions=True
    )
    refused = [o for o in outcomes[:5] if isinstance(o, DomainError)]
    assert len(refused) == 3 and {o.code for o in refused} == {ErrorCode.TOO_MANY_REQUESTS}
    assert isinstance(outcomes[5], bytes)  # another customer is not refused
    assert await pdfs.draft(flooder, document(lines=99))  # once they are done, more may come
