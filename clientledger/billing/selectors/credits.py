"""What is still creditable on an invoice and what is left of credit notes' credit: one home
each, read by the credit note services, the payments' client credit, the pages and the API.
Every sum is computed in SQL on minor units."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from clientledger.accounts.models import Agency
from clientledger.billing.models import (
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
)
from clientledger.crm.models import Client


@dataclass(frozen=True)
class Creditable:
    """What issued credit notes have not yet credited on an invoice: in total, and per line
    (free adjustment lines count against the total only)."""

    total_minor: int
    lines_minor: dict[int, int]


def invoice_creditable(invoice: Invoice) -> Creditable:
    issued = CreditNote.objects.filter(invoice=invoice, status=CreditNoteStatus.ISSUED)
    credited_total = issued.aggregate(total=Sum("total_minor"))["total"] or 0
    credited_lines = dict(
        CreditNoteLine.objects.filter(
            credit_note__invoice=invoice,
            credit_note__status=CreditNoteStatus.ISSUED,
            invoice_line__isnull=False,
        )
        .values("invoice_line")
        .annotate(total=Sum("total_minor"))
        .values_list("invoice_line", "total")
    )
    return Creditable(
        total_minor=invoice.total_minor - int(credited_total),
        lines_minor={
            line_id: total - int(credited_lines.get(line_id, 0))
            for line_id, total in invoice.lines.values_list("pk", "total_minor")
        },
    )


def _applied_minor(*, refunds: bool | None = None) -> Coalesce:
    applications = CreditApplication.objects.filter(
        credit_note=OuterRef("pk"), released_at__isnull=True
    )
    if refunds is not None:
        applications = applications.filter(is_refund=refunds)
    total = applications.values("credit_note").annotate(total=Sum("amount_minor")).values("total")
    return Coalesce(Subquery(total), 0)


def _remaining_minor() -> CombinedExpression:
    return F("total_minor") - _applied_minor()


def credit_notes_with_credit(credit_notes: QuerySet[CreditNote]) -> QuerySet[CreditNote]:
    """Credit notes with `amount_applied_minor` (spent on invoices), `amount_refunded_minor`
    (given back as money) and `remaining_credit_minor` (the client's credit) from SQL."""
    return credit_notes.annotate(
        amount_applied_minor=_applied_minor(refunds=False),
        amount_refunded_minor=_applied_minor(refunds=True),
        remaining_credit_minor=_remaining_minor(),
    )


@dataclass(frozen=True)
class CreditNoteCredit:
    """Where an issued credit note's credit went: applied to invoices, refunded as money,
    and what is left (the client's credit)."""

    applied_minor: int
    refunded_minor: int
    remaining_minor: int


def credit_of(credit_note: CreditNote) -> CreditNoteCredit:
    """The amounts of a credit note read through `credit_notes_with_credit`."""
    return CreditNoteCredit(
        applied_minor=int(getattr(credit_note, "amount_applied_minor", 0)),
        refunded_minor=int(getattr(credit_note, "amount_refunded_minor", 0)),
        remaining_minor=int(getattr(credit_note, "remaining_credit_minor", 0)),
    )


def credit_note_credit(credit_note: CreditNote) -> CreditNoteCredit:
    """The amounts of one credit note, in one query."""
    return credit_of(credit_notes_with_credit(CreditNote.objects.filter(pk=credit_note.pk)).get())


def credit_note_remaining_minor(credit_note: CreditNote) -> int:
    """What is left of an issued credit note's credit; a draft gives none."""
    if credit_note.status != CreditNoteStatus.ISSUED:
        return 0
    spent = CreditApplication.objects.filter(
        credit_note=credit_note, released_at__isnull=True
    ).aggregate(total=Sum("amount_minor"))["total"]
    return credit_note.total_minor - int(spent or 0)


def _issued_of_client(*, agency: Agency, client: Client) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(
        agency=agency, client=client, status=CreditNoteStatus.ISSUED, currency=client.currency
    )


def credit_note_rests(*, agency: Agency, client: Client) -> list[tuple[int, int]]:
    """(credit note id, remaining minor units) of the client's credit notes with credit left,
    oldest first: the order in which their credit is spent after payments' credit."""
    return list(
        _issued_of_client(agency=agency, client=client)
        .annotate(rest=_remaining_minor())
        .filter(rest__gt=0)
        .order_by("issued_at", "id")
        .values_list("pk", "rest")
    )


def client_credit_note_credit() -> Coalesce:
    """The credit the credit notes of the outer query's client (`OuterRef("pk")`) still give,
    in its currency: payments add the unallocated rest of its payments to it in one query."""
    total = (
        CreditNote.objects.filter(
            client=OuterRef("pk"),
            status=CreditNoteStatus.ISSUED,
            currency=OuterRef("currency"),
        )
        .annotate(rest=_remaining_minor())
        .values("client")
        .annotate(total=Sum("rest"))
        .values("total")
    )
    return Coalesce(Subquery(total), 0)


def credit_note_open_invoices(credit_note: CreditNote) -> list[Invoice]:
    """The client's open invoices in the credit note's currency with something left to pay,
    oldest due first: where its credit can go."""
    return list(
        Invoice.objects.filter(
            agency_id=credit_note.agency_id,
            client_id=credit_note.client_id,
            currency=credit_note.currency,
            status=InvoiceStatus.OPEN,
            total_minor__gt=F("amount_paid_minor") + F("amount_credited_minor"),
        ).order_by("due_date", "id")
    )
