"""What clients and deals still owe on their open invoices, as annotations of a client or
deal query (crm's lists sort and filter by them through `crm.finance`): `outstanding_minor`
and `overdue_minor` (billing's `overdue_condition`), in the client's currency.

Both are the stored `owed_open_minor` and `owed_overdue_minor` (kept with each balance move,
`services.rollups`), indexed for the lists' orders, when the agency's overdue amounts are
those of `today` (its `OverdueAsOf` date). Until the sweep advances that date after the
agency's day turned, overdue is summed by a correlated subquery over the open invoices of
each client or deal: slower, never wrong."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus, OverdueAsOf, overdue_condition
from clientledger.billing.selectors.common import balance_minor
from clientledger.crm.models import Client, Deal


def overdue_is_current(agency: Agency, today: dt.date) -> bool:
    """Whether the agency's stored overdue amounts are those of `today` (one query)."""
    return OverdueAsOf.objects.filter(agency=agency, as_of=today).exists()


def _overdue(key: str, agency: Agency, today: dt.date) -> F | Coalesce:
    if overdue_is_current(agency, today):
        return F("owed_overdue_minor")
    owed = (
        Invoice.objects.filter(
            overdue_condition(today),
            agency_id=OuterRef("agency_id"),
            status=InvoiceStatus.OPEN,
            **{key: OuterRef("pk")},
        )
        .values(key)
        .annotate(total=Sum(balance_minor()))
        .values("total")
    )
    return Coalesce(Subquery(owed), Value(0))


def clients_with_amounts_owed(
    clients: QuerySet[Client], *, agency: Agency, today: dt.date
) -> QuerySet[Client]:
    """The agency's `clients` with what their open invoices owe and how much of it is past
    due on `today`."""
    return clients.annotate(
        outstanding_minor=F("owed_open_minor"), overdue_minor=_overdue("client", agency, today)
    )


def deals_with_amounts_owed(
    deals: QuerySet[Deal], *, agency: Agency, today: dt.date
) -> QuerySet[Deal]:
    """The agency's `deals` with what their open invoices owe and how much of it is past due
    on `today`."""
    return deals.annotate(
        outstanding_minor=F("owed_open_minor"), overdue_minor=_overdue("deal", agency, today)
    )
