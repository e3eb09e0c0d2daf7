"""Idempotent sweeps the runner (embedded thread or Celery beat) calls with `as_of`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from clientledger.billing.documents.build import render_pending_pdfs
from clientledger.billing.services.estimates import estimates_expire_due
from clientledger.notifications.services import emails_send_due
from clientledger.payments.stripe.sync import stripe_requests_send_due
from clientledger.receivables.services.reminders import reminders_send_due


def drain_outbox(*, as_of: dt.datetime) -> dict[str, int]:
    return emails_send_due(as_of=as_of)


# Order matters within one pass: estimates expire before their follow-ups are decided, the
# reminders are queued before the PDFs they attach are rendered, and PDFs are ready before the
# emails that carry them.
SWEEPS: dict[str, Callable[..., dict[str, int]]] = {
    "expire_estimates": estimates_expire_due,
    "send_reminders": reminders_send_due,
    "render_pdfs": render_pending_pdfs,
    "drain_outbox": drain_outbox,
    "stripe_requests": stripe_requests_send_due,
}
