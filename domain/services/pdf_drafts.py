"""The DRAFT PDF of an invoice preview: what would be billed, rendered once per render key,
kept a while in memory (the last DRAFTS_KEPT), never stored."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import replace

from domain.model.access import Viewer
from domain.model.pdfs import render_failed
from domain.ports import RenderFailed, TemplateFailure
from domain.rendering.documents import InvoiceDocument
from domain.rendering.renderer import DocumentRenderer, PreparedDocument
from domain.services.render_slots import RenderSlots

DRAFTS_KEPT = 32


class DraftPdfs:
    def __init__(self, documents: DocumentRenderer, slots: RenderSlots) -> None:
        self.documents = documents
        self.slots = slots
        self._drafts: OrderedDict[str, bytes] = OrderedDict()
        self._drafting: dict[str, asyncio.Task[bytes]] = {}

    async def draft(self, viewer: Viewer, document: InvoiceDocument) -> bytes:
        with self.slots.taken(viewer):
            try:
                prepared = await self.documents.prepare(replace(document, draft=True))
            except TemplateFailure as error:
                raise render_failed(error) from None
            kept = self._drafts.get(prepared.key)
            if kept is not None:
                self._drafts.move_to_end(prepared.key)
                return kept
            task = self._drafting.get(prepared.key)
            if task is None:
                task = asyncio.create_task(self._render(prepared))
                self._drafting[prepared.key] = task
                task.add_done_callback(lambda _: self._drafting.pop(prepared.key, None))
            return await asyncio.shield(task)

    async def _render(self, prepared: PreparedDocument) -> bytes:
        try:
            data = (await self.documents.render(prepared)).data
        except RenderFailed as error:
            raise render_failed(error) from None
        self._drafts[prepared.key] = data
        while len(self._drafts) > DRAFTS_KEPT:
            self._drafts.popitem(last=False)
        return data
