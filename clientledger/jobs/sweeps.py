"""Idempotent sweeps the runner (embedded thread or Celery beat) calls with `as_of`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from clientledger.billing.documents.build import render_pending_pdfs
from clientledger.billing.services.estimates import estimates_expire_due
from clientledger.notifications.services import emails_send_due
from clientledger.payments.stripe.sync import stripe_requests_send_due
from clientledger.recurring.services.billing_run import billing_run


def bill_recurring(*, as_of: dt.datetime) -> dict[str, int]:
    """Every retainer period due, before the PDFs and emails of the invoices it makes."""
    result = billing_run(as_of=as_of, record_idle=False)
    counts = {"created": result.invoices_created, "failed": result.schedules_failed}
    return {name: count for name, count in counts.items() if count}


def drain_outbox(*, as_of: dt.datetime) -> dict[str, int]:
    return emails_send_due(as_of=as_of)


# Order matters within one pass: invoices are billed before their PDFs are rendered, and PDFs
# are ready before the emails that carry them.
SWEEPS: dict[str, Callable[..., dict[str, int]]] = {
    "expire_estimates": estimates_expire_due,
    "billing_run": bill_recurring,
    "render_pdfs": render_pending_pdfs,
    "drain_outbox": drain_outbox,
    "stripe_requests": stripe_requests_send_due,
}
