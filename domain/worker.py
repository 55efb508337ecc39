"""The work queue's jobs, whichever queue runs them (ports.WorkQueue): bill one customer of
a billing run, render one invoice's PDF, and periodically settle lost payment outcomes,
send webhooks and run the dunning round. The local queue calls these in the asking process; `invoicing worker`
processes call them for jobs taken from Redis."""

from __future__ import annotations

import logging

from domain.config import Settings
from domain.errors import DomainError
from domain.model.access import SYSTEM
from domain.ports import (
    BillingJob,
    BillOutcome,
    CardGateway,
    MailSender,
    Metrics,
    TryLater,
    WebhookSender,
)
from domain.services.billing import bill_customer
from domain.services.dunning import run_round
from domain.services.invoice_pdfs import InvoicePdfs
from domain.services.payments.reconcile import reconcile_payments
from domain.services.webhook_dispatch import dispatch
from domain.store.database import DATABASE_UNAVAILABLE, Database

log = logging.getLogger("invoicing.worker")


class RuntimeJobs:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        pdfs: InvoicePdfs,
        cards: CardGateway,
        metrics: Metrics,
        webhooks: WebhookSender,
        mail: MailSender,
    ) -> None:
        self.db = db
        self.settings = settings
        self.pdfs = pdfs
        self.cards = cards
        self.metrics = metrics
        self.webhooks = webhooks
        self.mail = mail

    async def bill_customer(self, job: BillingJob) -> BillOutcome:
        try:
            outcome = await bill_customer(self.db, self.settings, job)
        except DATABASE_UNAVAILABLE as error:
            # The database is away: run the job later rather than fail the customer.
            log.warning("billing customer %s: database unavailable (%s)", job.customer_id, error)
            raise TryLater() from None
        if outcome.outcome == "billed":
            log.info("customer %s: billed as invoice %s", job.customer_id, outcome.invoice_id)
        elif outcome.outcome == "failed":
            log.warning("billing customer %s failed: %s", job.customer_id, outcome.message)
        return outcome

    async def render_invoice_pdf(self, invoice_id: int) -> None:
        try:
            await self.pdfs.get(SYSTEM, invoice_id)
        except DomainError as error:
            log.warning("pre-rendering invoice %s failed: %s", invoice_id, error.message)
        except DATABASE_UNAVAILABLE:
            raise TryLater() from None

    async def reconcile_payments(self) -> None:
        try:
            report = await reconcile_payments(self.db, self.settings, self.metrics, self.cards)
        except DATABASE_UNAVAILABLE:
            log.warning("reconciling payments: database unavailable; next round")
            return
        if report.total:
            log.info("reconciled payment attempts: %s", report.outcomes)

    async def run_dunning(self) -> None:
        try:
            report = await run_round(self.db, self.settings, self.pdfs, self.mail)
        except DATABASE_UNAVAILABLE:
            log.warning("dunning: database unavailable; next round")
            return
        if report.overdue or report.fees or report.sent or report.failed:
            log.info(
                "dunning: %d overdue, %d late fees, %d reminders sent, %d not sent",
                len(report.overdue),
                len(report.fees),
                len(report.sent),
                len(report.failed),
            )

    async def dispatch_webhooks(self) -> None:
        try:
            report = await dispatch(self.db, self.settings, self.webhooks, self.metrics)
        except DATABASE_UNAVAILABLE:
            log.warning("sending webhooks: database unavailable; next round")
            return
        if report.announced or report.sent:
            log.info(
                "webhooks: %s deliveries made, %s sent %s",
                report.announced,
                report.sent,
                report.outcomes,
            )
