"""Reads of the client ledger: a client's outstanding balance and the reconcile checks.

Entries are appended by `billing.services.ledger.ledger_append`, inside the services' own
transactions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import F, Sum
from django.db.models.functions import Coalesce

from clientledger.accounts.models import Agency
from clientledger.billing.models import (
    CreditApplication,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    LedgerEntry,
    LedgerEntryKind,
)
from clientledger.core.money import from_minor
from clientledger.crm.models import Client


def client_outstanding_balance(*, agency: Agency, client: Client) -> Decimal:
    """What the client owes, summed from its ledger entries in SQL (exact integers)."""
    total = LedgerEntry.objects.filter(
        agency=agency, client=client, currency=client.currency
    ).aggregate(total=Sum("amount_minor"))["total"]
    return from_minor(total or 0, client.currency)


@dataclass(frozen=True)
class BalanceMismatch:
    client_id: int
    client_name: str
    currency: str
    cached_minor: int
    ledger_minor: int


def ledger_mismatches(*, agency: Agency | None = None) -> list[BalanceMismatch]:
    """Clients whose cached balance differs from their ledger sum (should always be empty)."""
    clients = Client.objects.all() if agency is None else Client.objects.filter(agency=agency)
    ledger_sum = (
        LedgerEntry.objects.filter(client=models.OuterRef("pk"))
        .values("client")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    rows = (
        clients.annotate(ledger_minor=Coalesce(models.Subquery(ledger_sum), 0))
        .exclude(balance_minor=F("ledger_minor"))
        .values_list("pk", "name", "currency", "balance_minor", "ledger_minor")
    )
    return [BalanceMismatch(*row) for row in rows]


def credit_mismatches(*, agency: Agency | None = None) -> list[str]:
    """What credit notes should make true and does not (should always be empty): each
    invoice's credited amount is the sum of the credit applied to it, no credit note spends
    more than its total, no invoice is credited beyond its total, and each issued credit note
    is in its client's ledger for minus its total."""
    scope: dict[str, Agency] = {} if agency is None else {"agency": agency}
    return (
        _invoices_credited_unlike_applied(scope)
        + _credit_notes_overspent(scope)
        + _invoices_credited_beyond_total(scope)
        + _credit_notes_off_ledger(scope)
    )


def _invoices_credited_unlike_applied(scope: dict[str, Agency]) -> list[str]:
    """Invoices whose credited amount is not the credit applied to them."""
    applied = (
        CreditApplication.objects.filter(invoice=models.OuterRef("pk"), released_at__isnull=True)
        .values("invoice")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    return [
        f"Invoice {number}: credited {credited} minor units, credit applied {total}"
        for number, credited, total in Invoice.objects.filter(**scope)
        .annotate(applied=Coalesce(models.Subquery(applied), 0))
        .exclude(amount_credited_minor=F("applied"))
        .values_list("number", "amount_credited_minor", "applied")
    ]


def _credit_notes_overspent(scope: dict[str, Agency]) -> list[str]:
    """Credit notes that spend more than their total."""
    spent = (
        CreditApplication.objects.filter(
            credit_note=models.OuterRef("pk"), released_at__isnull=True
        )
        .values("credit_note")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    return [
        f"Credit note {number}: {total} minor units spent of {credit}"
        for number, credit, total in CreditNote.objects.filter(**scope)
        .annotate(spent=Coalesce(models.Subquery(spent), 0))
        .filter(spent__gt=F("total_minor"))
        .values_list("number", "total_minor", "spent")
    ]


def _invoices_credited_beyond_total(scope: dict[str, Agency]) -> list[str]:
    """Invoices whose issued credit notes total more than they do."""
    noted = (
        CreditNote.objects.filter(invoice=models.OuterRef("pk"), status=CreditNoteStatus.ISSUED)
        .values("invoice")
        .annotate(total=Sum("total_minor"))
        .values("total")
    )
    return [
        f"Invoice {number}: credit notes total {total} minor units of {invoice_total}"
        for number, invoice_total, total in Invoice.objects.filter(**scope)
        .annotate(noted=Coalesce(models.Subquery(noted), 0))
        .filter(noted__gt=F("total_minor"))
        .values_list("number", "total_minor", "noted")
    ]


def _credit_notes_off_ledger(scope: dict[str, Agency]) -> list[str]:
    """Issued credit notes whose ledger entry is not minus their total."""
    posted = LedgerEntry.objects.filter(
        kind=LedgerEntryKind.CREDIT_NOTE_ISSUED,
        document_type=CreditNote._meta.label_lower,
        document_id=models.OuterRef("pk"),
    ).values("amount_minor")[:1]
    return [
        f"Credit note {number}: total {total} minor units, ledger {entry}"
        for number, total, entry in CreditNote.objects.filter(
            **scope, status=CreditNoteStatus.ISSUED
        )
        .annotate(entry=models.Subquery(posted))
        .exclude(entry=-F("total_minor"))
        .values_list("number", "total_minor", "entry")
    ]
