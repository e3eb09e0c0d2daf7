"""The documents of a client or a deal, as the client and deal pages summarise them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from clientledger.accounts.models import Agency
from clientledger.billing.models import (
    CreditNote,
    Estimate,
    Invoice,
    InvoiceStatus,
    overdue_condition,
)
from clientledger.billing.selectors.common import (
    DOCUMENT_ORDERING,
    DocumentKindName,
    balance_minor,
    invoices_with_states,
)
from clientledger.core import clock
from clientledger.core.money import from_minor
from clientledger.core.query import first_rows_totalled
from clientledger.crm.models import Client, Deal

# A client or deal page lists its most recent documents of each kind; the lists show all.
RECORD_PAGE_DOCUMENTS = 20
# What the documents card shows of a row (billing/_documents_card.html, DocumentRow): the
# rest of a document's thirty-odd columns would cost the page more to read than its SQL.
RECORD_COLUMNS = ("number", "status", "issue_date", "total_minor", "currency", "created_at")
INVOICE_RECORD_COLUMNS = (*RECORD_COLUMNS, "amount_paid_minor", "amount_credited_minor")
OWING_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE)


@dataclass(frozen=True)
class DocumentRow:
    kind: DocumentKindName
    document: Estimate | Invoice | CreditNote
    is_overdue: bool = False
    is_partially_paid: bool = False

    @property
    def balance_due(self) -> Decimal | None:
        """What is still owed on an issued invoice; drafts and void invoices owe nothing."""
        invoice = self.document
        if isinstance(invoice, Invoice) and invoice.status in OWING_STATUSES:
            return from_minor(invoice.balance_due_minor, invoice.currency)
        return None


@dataclass(frozen=True)
class RecordDocuments:
    """The documents of a client or a deal, most recent first, what its open invoices still
    owe (`outstanding`) and how much of that is overdue."""

    rows: list[DocumentRow]
    estimate_count: int
    invoice_count: int
    credit_note_count: int
    outstanding: Decimal
    outstanding_count: int
    overdue: Decimal
    overdue_count: int
    currency: str
    # The document lists' filter for the same documents, e.g. "client=3".
    list_query: str

    @property
    def is_truncated(self) -> bool:
        return len(self.rows) < self.estimate_count + self.invoice_count + self.credit_note_count


def _record_documents(
    agency: Agency, currency: str, *, scope: dict[str, Client | Deal], list_query: str
) -> RecordDocuments:
    """Three queries whatever the number of documents."""
    today = clock.agency_today(agency)
    estimates, estimate_totals = first_rows_totalled(
        Estimate.objects.filter(agency=agency, **scope)
        .only(*RECORD_COLUMNS)
        .order_by(*DOCUMENT_ORDERING),
        RECORD_PAGE_DOCUMENTS,
    )
    owing = Q(
        currency=currency, total_minor__gt=F("amount_paid_minor") + F("amount_credited_minor")
    )
    outstanding = Q(status=InvoiceStatus.OPEN) & owing
    overdue = overdue_condition(today) & owing
    invoices, invoice_summary = first_rows_totalled(
        invoices_with_states(Invoice.objects.filter(agency=agency, **scope), today)
        .only(*INVOICE_RECORD_COLUMNS)
        .order_by(*DOCUMENT_ORDERING),
        RECORD_PAGE_DOCUMENTS,
        outstanding_minor=Sum(balance_minor(), filter=outstanding),
        outstanding_count=Count("id", filter=outstanding),
        overdue_minor=Sum(balance_minor(), filter=overdue),
        overdue_count=Count("id", filter=overdue),
    )
    recent_credit_notes, credit_note_totals = first_rows_totalled(
        CreditNote.objects.filter(agency=agency, **scope)
        .only(*RECORD_COLUMNS)
        .order_by(*DOCUMENT_ORDERING),
        RECORD_PAGE_DOCUMENTS,
    )
    rows = [DocumentRow("estimate", estimate) for estimate in estimates] + [
        DocumentRow(
            "invoice",
            invoice,
            is_overdue=invoice.is_overdue,  # type: ignore[attr-defined]
            is_partially_paid=invoice.is_partially_paid,  # type: ignore[attr-defined]
        )
        for invoice in invoices
    ]
    rows += [DocumentRow("credit_note", credit_note) for credit_note in recent_credit_notes]
    rows.sort(key=lambda row: (row.document.created_at, row.document.pk), reverse=True)
    return RecordDocuments(
        rows=rows,
        estimate_count=estimate_totals["count"],
        invoice_count=invoice_summary["count"],
        credit_note_count=credit_note_totals["count"],
        outstanding=from_minor(invoice_summary["outstanding_minor"] or 0, currency),
        outstanding_count=invoice_summary["outstanding_count"] or 0,
        overdue=from_minor(invoice_summary["overdue_minor"] or 0, currency),
        overdue_count=invoice_summary["overdue_count"] or 0,
        currency=currency,
        list_query=list_query,
    )


def client_documents(*, agency: Agency, client: Client) -> RecordDocuments:
    return _record_documents(
        agency, client.currency, scope={"client": client}, list_query=f"client={client.pk}"
    )


def deal_documents(*, agency: Agency, deal: Deal) -> RecordDocuments:
    return _record_documents(
        agency, deal.client.currency, scope={"deal": deal}, list_query=f"deal={deal.pk}"
    )
