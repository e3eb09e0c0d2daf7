"""What clients and deals still owe on their open invoices, as annotations of a client or
deal query (crm's lists sort and filter by them through `crm.finance`): `outstanding_minor`
and `overdue_minor` (billing's `overdue_condition`), in the client's currency, by correlated
subqueries over open invoices only, so a page costs the same at any number of invoices."""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from clientledger.billing.models import Invoice, InvoiceStatus, overdue_condition
from clientledger.billing.selectors.common import balance_minor
from clientledger.crm.models import Client, Deal


def _owed(key: str, condition: Q) -> Coalesce:
    owed = (
        Invoice.objects.filter(
            condition,
            agency_id=OuterRef("agency_id"),
            status=InvoiceStatus.OPEN,
            **{key: OuterRef("pk")},
        )
        .values(key)
        .annotate(total=Sum(balance_minor()))
        .values("total")
    )
    return Coalesce(Subquery(owed), Value(0))


def clients_with_amounts_owed(clients: QuerySet[Client], *, today: dt.date) -> QuerySet[Client]:
    """`clients` with what their open invoices owe and how much of it is past due on `today`."""
    return clients.annotate(
        outstanding_minor=_owed("client", Q()),
        overdue_minor=_owed("client", overdue_condition(today)),
    )


def deals_with_amounts_owed(deals: QuerySet[Deal], *, today: dt.date) -> QuerySet[Deal]:
    """`deals` with what their open invoices owe and how much of it is past due on `today`."""
    return deals.annotate(
        outstanding_minor=_owed("deal", Q()), overdue_minor=_owed("deal", overdue_condition(today))
    )
