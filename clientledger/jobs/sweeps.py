"""Idempotent sweeps the runner (embedded thread or Celery beat) calls with `as_of`.

A sweep is either one call (`Sweep`) or a `ChunkedSweep`: the ids of its due rows in chunks
and the work on one chunk. The embedded runner does the chunks one after the other in its
thread; under Celery each chunk is a task of its own, spread over the workers
(`jobs.tasks`). The domain functions are the same in both modes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from clientledger.billing.documents.build import document_pdfs_render
from clientledger.billing.models import CreditNote, Estimate, Invoice
from clientledger.billing.selectors.pdfs import documents_without_pdf_chunks
from clientledger.billing.services.estimates import estimates_expire_due
from clientledger.billing.services.rollups import overdue_days_turn
from clientledger.notifications.selectors import emails_due_chunks
from clientledger.notifications.services import emails_send
from clientledger.payments.stripe.sync import stripe_requests_send_due
from clientledger.receivables.services.reminders import reminders_send_due
from clientledger.recurring.services.billing_run import (
    CHUNK_SIZE as BILLING_RUN_CHUNK,
)
from clientledger.recurring.services.billing_run import (
    billing_run_due_chunks,
    billing_run_sweep_chunk,
)

Sweep = Callable[..., dict[str, int]]

logger = logging.getLogger(__name__)


class DueChunks(Protocol):
    """The ids of the rows due at `as_of`, at most `size` per chunk. It may only read: a
    chunk can be handed out again (a later pass, a lost task) before its work is done."""

    def __call__(self, *, as_of: dt.datetime, size: int) -> Iterable[list[int]]: ...


class RunChunk(Protocol):
    """The work on one chunk, idempotent and safe to run concurrently with itself (each row
    claimed or locked first): what ended how, e.g. `{"sent": 3}`."""

    def __call__(self, *, ids: list[int], as_of: dt.datetime) -> dict[str, int]: ...


@dataclass(frozen=True)
class ChunkedSweep:
    due_chunks: DueChunks
    run_chunk: RunChunk
    # Ids per chunk, so per Celery task: 1 makes each row a task of its own.
    size: int

    def __call__(self, *, as_of: dt.datetime) -> dict[str, int]:
        """Every chunk in turn (the embedded runner). A failing chunk is logged and does
        not stop the others, as a failing task does not stop the other tasks under Celery."""
        outcome: Counter[str] = Counter()
        for ids in self.due_chunks(as_of=as_of, size=self.size):
            try:
                outcome.update(self.run_chunk(ids=ids, as_of=as_of))
            except Exception:
                logger.exception("chunk %s of a sweep failed", ids)
                outcome["failed_chunks"] += 1
        return dict(outcome)


def pdf_sweep(model: type[Estimate | Invoice | CreditNote]) -> ChunkedSweep:
    def due(*, as_of: dt.datetime, size: int) -> Iterable[list[int]]:
        return documents_without_pdf_chunks(model, size=size)

    def render(*, ids: list[int], as_of: dt.datetime) -> dict[str, int]:
        return document_pdfs_render(model, ids=ids)

    return ChunkedSweep(due_chunks=due, run_chunk=render, size=1)


# Order matters within one pass of the embedded runner: estimates expire before their
# follow-ups are decided, retainer invoices are billed and reminders queued before the PDFs
# they attach are rendered, and PDFs are ready before the emails that carry them. Under Celery
# the sweeps run in parallel; an email whose PDF is not stored yet renders it on delivery.
SWEEPS: dict[str, Sweep | ChunkedSweep] = {
    "expire_estimates": estimates_expire_due,
    # The client and deal lists read stored overdue amounts only once they are of the
    # agency's day (they sum the invoices until then).
    "overdue_days_turn": overdue_days_turn,
    "billing_run": ChunkedSweep(
        due_chunks=billing_run_due_chunks, run_chunk=billing_run_sweep_chunk, size=BILLING_RUN_CHUNK
    ),
    "send_reminders": reminders_send_due,
    "render_invoice_pdfs": pdf_sweep(Invoice),
    "render_credit_note_pdfs": pdf_sweep(CreditNote),
    "render_estimate_pdfs": pdf_sweep(Estimate),
    "drain_outbox": ChunkedSweep(due_chunks=emails_due_chunks, run_chunk=emails_send, size=1),
    "stripe_requests": stripe_requests_send_due,
}
