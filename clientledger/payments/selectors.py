"""Reads of payments, allocations and client credit; every sum is computed in SQL."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.core.money import from_minor
from clientledger.crm.models import Client
from clientledger.payments.models import (
    CREDITED_STATUSES,
    HOLDING_REFUND_STATUSES,
    Allocation,
    Payment,
    Refund,
)


def _sum_per_payment(queryset: QuerySet[Allocation] | QuerySet[Refund]) -> Coalesce:
    # A correlated sum per payment: joining both tables would multiply the rows.
    total = (
        queryset.filter(payment=OuterRef("pk"))
        .values("payment")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    return Coalesce(Subquery(total), 0)


def _credited_payments(*, agency: Agency, client: Client) -> QuerySet[Payment]:
    return Payment.objects.filter(agency=agency, client=client, status__in=CREDITED_STATUSES)


def _unallocated_minor() -> CombinedExpression:
    """A payment's amount minus its allocations and its pending or succeeded refunds."""
    return (
        F("amount_minor")
        - _sum_per_payment(Allocation.objects.all())
        - _sum_per_payment(Refund.objects.filter(status__in=HOLDING_REFUND_STATUSES))
    )


def payment_credit_rests(*, agency: Agency, client: Client) -> list[tuple[int, int]]:
    """(payment id, unallocated minor units) of the client's payments with credit left,
    oldest first: the order in which credit is spent."""
    return list(
        _credited_payments(agency=agency, client=client)
        .annotate(rest=_unallocated_minor())
        .filter(rest__gt=0)
        .order_by("received_on", "id")
        .values_list("pk", "rest")
    )


def client_credit_minor(*, agency: Agency, client: Client) -> int:
    total = _credited_payments(agency=agency, client=client).aggregate(
        total=Sum(_unallocated_minor())
    )["total"]
    return int(total or 0)


def client_credit_balance(*, agency: Agency, client: Client) -> Decimal:
    """The money the client paid that no invoice uses yet and that was not refunded."""
    return from_minor(client_credit_minor(agency=agency, client=client), client.currency)


def invoice_payments(*, invoice: Invoice) -> QuerySet[Allocation]:
    """What paid this invoice, oldest first, with each payment."""
    return (
        Allocation.objects.filter(agency_id=invoice.agency_id, invoice=invoice)
        .select_related("payment")
        .order_by("created_at", "id")
    )


def payment_list(*, agency: Agency, client_id: int | None = None) -> QuerySet[Payment]:
    payments = Payment.objects.filter(agency=agency).select_related("client")
    if client_id is not None:
        payments = payments.filter(client_id=client_id)
    return payments.order_by("-received_on", "-id")
