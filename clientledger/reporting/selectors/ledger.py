"""A client's receivables ledger up to a day: every entry (invoice issued or voided, payment,
refund, credit note) with the balance after it, the running sum computed by the database
(one query)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet, Sum, Window

from clientledger.accounts.models import Agency
from clientledger.billing.models import LedgerEntry
from clientledger.crm.models import Client
from clientledger.reporting.selectors.common import day_end


def client_ledger(*, agency: Agency, client: Client, as_of: dt.date) -> QuerySet[LedgerEntry]:
    """The client's entries posted by the end of `as_of`, oldest first, each annotated
    `balance_minor_after` (what the client owed after it)."""
    return (
        LedgerEntry.objects.filter(
            agency=agency, client=client, occurred_at__lt=day_end(agency, as_of)
        )
        .annotate(balance_minor_after=Window(Sum("amount_minor"), order_by=["occurred_at", "id"]))
        .order_by("occurred_at", "id")
    )
