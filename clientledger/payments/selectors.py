"""Reads of payments, allocations and client credit; every sum is computed in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from clientledger.accounts.models import Agency
from clientledger.billing.documents.data import PaymentReceived
from clientledger.billing.models import CreditNote, Invoice, InvoiceStatus
from clientledger.billing.selectors.credits import client_credit_note_credit
from clientledger.core.money import from_minor
from clientledger.crm.models import Client
from clientledger.payments.models import (
    CREDITED_STATUSES,
    HOLDING_REFUND_STATUSES,
    OPEN_DISPUTE_STATUSES,
    Allocation,
    Dispute,
    Payment,
    PaymentStatus,
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


def clients_credit_minor(*, agency: Agency, client_ids: Iterable[int]) -> dict[int, int]:
    """The credit left to each of these clients that has any, in one query: the unallocated,
    unrefunded rest of their payments and what is left of their issued credit notes (the
    billing run applies it to a chunk's new invoices)."""
    payments = (
        Payment.objects.filter(agency=agency, client=OuterRef("pk"), status__in=CREDITED_STATUSES)
        .annotate(rest=_unallocated_minor())
        .values("client")
        .annotate(total=Sum("rest"))
        .values("total")
    )
    credits = (
        Client.objects.filter(agency=agency, pk__in=set(client_ids))
        .annotate(credit=Coalesce(Subquery(payments), 0) + client_credit_note_credit())
        .filter(credit__gt=0)
        .values_list("pk", "credit")
    )
    return {client_id: int(credit) for client_id, credit in credits}


def client_credit_minor(*, agency: Agency, client: Client) -> int:
    """The client's credit (see `clients_credit_minor`)."""
    return clients_credit_minor(agency=agency, client_ids=[client.pk]).get(client.pk, 0)


def pending_by_currency(*, agency: Agency) -> dict[str, int]:
    """Stripe payments still processing (ACH takes days), per currency in minor units."""
    rows = (
        Payment.objects.filter(agency=agency, status=PaymentStatus.PENDING)
        .values("currency")
        .annotate(total=Sum("amount_minor"))
        .values_list("currency", "total")
    )
    return {currency: int(total) for currency, total in rows if total}


def client_credit_balance(*, agency: Agency, client: Client) -> Decimal:
    """The money the client paid that no invoice uses yet and that was not refunded, and the
    credit its credit notes still give."""
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


# --- an invoice's payment state ------------------------------------------------------------


@dataclass(frozen=True)
class InvoicePaymentState:
    """What the invoice's own figures do not tell: money on its way and an open dispute."""

    # Stripe payments still processing (ACH takes days): not paid yet, not payable twice.
    pending_minor: int
    disputed: bool


# The two expressions below annotate any invoice queryset: a list shows each invoice's
# state in its own query.


def invoice_pending_minor() -> Coalesce:
    """The sum of the invoice's Stripe payments still pending."""
    pending = (
        Payment.objects.filter(
            agency_id=OuterRef("agency_id"), invoice=OuterRef("pk"), status=PaymentStatus.PENDING
        )
        .values("invoice")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    return Coalesce(Subquery(pending), 0)


def invoice_has_open_dispute() -> Exists:
    return Exists(
        Dispute.objects.filter(
            agency_id=OuterRef("agency_id"),
            invoice=OuterRef("pk"),
            status__in=OPEN_DISPUTE_STATUSES,
        )
    )


def invoice_payment_states(
    *, agency: Agency, invoice_ids: Iterable[int]
) -> dict[int, InvoicePaymentState]:
    """The payment state of each of the invoices, in one query."""
    rows = (
        Invoice.objects.filter(agency=agency, pk__in=list(invoice_ids))
        .annotate(pending=invoice_pending_minor(), disputed=invoice_has_open_dispute())
        .values_list("pk", "pending", "disputed")
    )
    return {
        pk: InvoicePaymentState(pending_minor=pending, disputed=disputed)
        for pk, pending, disputed in rows
    }


def invoice_payment_state(*, invoice: Invoice) -> InvoicePaymentState:
    return invoice_payment_states(agency=invoice.agency, invoice_ids=[invoice.pk])[invoice.pk]


def invoice_payments_received(*, invoice: Invoice) -> QuerySet[Allocation]:
    """What paid this invoice with money that arrived: no pending or failed payment."""
    return invoice_payments(invoice=invoice).filter(payment__status__in=CREDITED_STATUSES)


def invoice_receipts(*, invoice: Invoice) -> list[PaymentReceived]:
    """The payments an invoice prints: what paid it with money that arrived, oldest first."""
    return [
        PaymentReceived(
            received_on=allocation.payment.received_on,
            method=allocation.payment.get_method_display(),
            amount_minor=allocation.amount_minor,
        )
        for allocation in invoice_payments_received(invoice=invoice)
    ]


# --- what the staff payment pages read -----------------------------------------------------


def payment_invoice_get(*, agency: Agency, pk: int) -> Invoice:
    """An invoice with its client (raises DoesNotExist)."""
    return Invoice.objects.select_related("client").get(agency=agency, pk=pk)


def client_open_invoices(*, agency: Agency, client: Client) -> list[Invoice]:
    """The client's payable invoices, oldest due first: the default allocation order."""
    return list(
        Invoice.objects.filter(agency=agency, client=client, status=InvoiceStatus.OPEN).order_by(
            "due_date", "issue_date", "pk"
        )
    )


def payment_search(
    *, agency: Agency, client_id: int | None = None, method: str = "", search: str = ""
) -> QuerySet[Payment]:
    """The payment list filtered by method and by reference or client name."""
    payments = payment_list(agency=agency, client_id=client_id)
    if method:
        payments = payments.filter(method=method)
    if search:
        payments = payments.filter(
            Q(reference__icontains=search) | Q(client__name__icontains=search)
        )
    return payments


@dataclass(frozen=True)
class PaymentDetail:
    payment: Payment
    allocations: list[Allocation]
    refunds: list[Refund]
    disputes: list[Dispute]
    # Pending refunds hold their amount: it can be neither refunded again nor spent as credit.
    refundable_minor: int
    credit_minor: int


def payment_detail(*, agency: Agency, pk: int) -> PaymentDetail:
    """A payment with its allocations, refunds and disputes (raises DoesNotExist)."""
    payment = (
        payment_list(agency=agency)
        .annotate(
            held_minor=_sum_per_payment(Refund.objects.filter(status__in=HOLDING_REFUND_STATUSES)),
            credit_minor=_unallocated_minor(),
        )
        .get(pk=pk)
    )
    # Money that never arrived (a pending or failed bank debit) is neither credit nor
    # refundable.
    arrived = payment.status in CREDITED_STATUSES
    return PaymentDetail(
        payment=payment,
        allocations=list(
            payment.allocations.select_related("invoice").order_by("created_at", "id")
        ),
        refunds=list(payment.refunds.select_related("created_by")),
        disputes=list(payment.disputes.select_related("invoice")),
        refundable_minor=payment.amount_minor - payment.held_minor if arrived else 0,
        credit_minor=payment.credit_minor if arrived else 0,
    )


def oldest_first(invoices: Iterable[Invoice]) -> list[Invoice]:
    """Open invoices in the order a payment settles them: earliest due first."""
    return sorted(
        (invoice for invoice in invoices if invoice.status == InvoiceStatus.OPEN),
        key=lambda invoice: (
            invoice.due_date or dt.date.max,
            invoice.issue_date or dt.date.max,
            invoice.pk,
        ),
    )


def allocation_spread(invoices: Iterable[Invoice], amount_minor: int) -> list[tuple[Invoice, int]]:
    """`amount_minor` spread over `invoices` in their order, each up to its balance due."""
    plan: list[tuple[Invoice, int]] = []
    remaining = amount_minor
    for invoice in invoices:
        share = min(remaining, invoice.balance_due_minor)
        if share > 0:
            plan.append((invoice, share))
            remaining -= share
    return plan


def refund_invoice_ids(payment_filter: Q) -> set[int]:
    """The invoices a payment's allocations and refunds touch: all a refund may move."""
    ids = set(Allocation.objects.filter(payment_filter).values_list("invoice_id", flat=True))
    for taken_from in Refund.objects.filter(payment_filter).values_list("taken_from", flat=True):
        ids.update(int(invoice_id) for invoice_id in taken_from)
    return ids


def refund_held_minor(payment: Payment) -> int:
    total = payment.refunds.filter(status__in=HOLDING_REFUND_STATUSES).aggregate(
        total=Sum("amount_minor")
    )["total"]
    return int(total or 0)


def credit_note_refunds(*, credit_note: CreditNote) -> list[Refund]:
    """The refunds that paid a credit note's credit back (failed ones included), oldest
    first, with their payments."""
    return list(
        Refund.objects.filter(
            agency_id=credit_note.agency_id, credit_application__credit_note=credit_note
        )
        .select_related("payment")
        .order_by("created_at", "id")
    )
