"""The estimate and invoice lists: each kind's filters and rows, and one page of any kind with
the filter's clients and deals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q, QuerySet

from clientledger.accounts.models import Agency
from clientledger.billing.models import (
    CreditNote,
    Estimate,
    Invoice,
    InvoiceStatus,
    credited_condition,
    overdue_condition,
    partially_paid_condition,
)
from clientledger.billing.selectors.common import DOCUMENT_ORDERING, invoices_with_states
from clientledger.billing.selectors.credits import credit_notes_with_credit
from clientledger.core import clock
from clientledger.core.pagination import Page, keyset_page_or_first
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import client_matches

D = TypeVar("D", Estimate, Invoice, CreditNote)


class InvoiceListStatus(models.TextChoices):
    """What the invoice list filters by: the stored states, the derived "partially paid"
    (open invoices with part of them paid) after "open", and "credited" (credit notes
    settled part or all of them) after "paid"."""

    DRAFT = InvoiceStatus.DRAFT.value, InvoiceStatus.DRAFT.label
    OPEN = InvoiceStatus.OPEN.value, InvoiceStatus.OPEN.label
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = InvoiceStatus.PAID.value, InvoiceStatus.PAID.label
    CREDITED = "credited", "Credited"
    VOID = InvoiceStatus.VOID.value, InvoiceStatus.VOID.label
    UNCOLLECTIBLE = InvoiceStatus.UNCOLLECTIBLE.value, InvoiceStatus.UNCOLLECTIBLE.label


def _deal_choices(agency: Agency, client_id: int | None, deal_id: int | None) -> list[Deal]:
    """The deal filter offers the chosen client's deals (and the chosen deal); none until a
    client or deal is chosen, so that the list never loads every deal."""
    if not (client_id or deal_id):
        return []
    return list(
        Deal.objects.filter(agency=agency)
        .filter(Q(client_id=client_id) | Q(pk=deal_id))
        .only("id", "title")
        .order_by("title", "id")
    )


@dataclass(frozen=True)
class DocumentFilters:
    """What every document list filters by; a kind's filters add their own."""

    search: str = ""
    status: str = ""
    client_id: int | None = None
    deal_id: int | None = None

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


# A search matching fewer documents than this reads them by its indexes; a broader one (the
# number prefix "INV") walks the list's own order, where matches come quickly.
NARROW_SEARCH = 1000


def _searched(documents: QuerySet[Any], search: str, number_path: str = "number") -> QuerySet[Any]:
    """The documents whose number starts with `search` or whose client's name contains it,
    both case-insensitively (one query more than the list).

    On PostgreSQL the number prefix is served by a `text_pattern_ops` index on UPPER(number)
    (billing migration 0008), the client names by a trigram index (crm migration 0004) and
    their documents by the client index. One OR of the two would walk every document of the
    agency when few match: the matches are first looked up by those indexes (UNION ALL, at
    most NARROW_SEARCH of them); only a search that finds that many keeps the OR, which the
    list's order then stops early. SQLite answers the same without the indexes.
    """
    matching_clients = Client.objects.filter(name__icontains=search).values("pk")
    number_starts = Q(**{f"{number_path}__istartswith": search})
    by_number = documents.filter(number_starts).order_by().values_list("pk", flat=True)
    by_client = (
        documents.filter(client__in=matching_clients).order_by().values_list("pk", flat=True)
    )
    found = list(by_number.union(by_client, all=True)[:NARROW_SEARCH])
    if len(found) < NARROW_SEARCH:
        return documents.filter(pk__in=set(found))
    return documents.filter(number_starts | Q(client__in=matching_clients))


def _filtered(documents: QuerySet[Any], filters: DocumentFilters) -> QuerySet[Any]:
    """The filters every kind shares, except the status (a kind may derive some)."""
    documents = documents.select_related("client", "deal")
    if filters.search:
        documents = _searched(documents, filters.search)
    if filters.client_id:
        documents = documents.filter(client_id=filters.client_id)
    if filters.deal_id:
        documents = documents.filter(deal_id=filters.deal_id)
    return documents


def estimate_list(*, agency: Agency, filters: DocumentFilters) -> QuerySet[Estimate]:
    estimates = _filtered(Estimate.objects.filter(agency=agency), filters)
    if filters.status:
        estimates = estimates.filter(status=filters.status)
    return estimates


@dataclass(frozen=True)
class InvoiceFilters(DocumentFilters):
    overdue: bool = False
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None


def invoice_list(
    *, agency: Agency, filters: InvoiceFilters, today: dt.date | None = None
) -> QuerySet[Invoice]:
    """Invoices with their derived states, filtered; the date range is on the issue date.
    `today` defaults to the agency's."""
    today = today or clock.agency_today(agency)
    invoices = _filtered(
        invoices_with_states(Invoice.objects.filter(agency=agency), today), filters
    )
    if filters.status == InvoiceListStatus.PARTIALLY_PAID:
        invoices = invoices.filter(partially_paid_condition())
    elif filters.status == InvoiceListStatus.CREDITED:
        invoices = invoices.filter(credited_condition())
    elif filters.status:
        invoices = invoices.filter(status=filters.status)
    if filters.overdue:
        invoices = invoices.filter(overdue_condition(today))
    if filters.issued_from:
        invoices = invoices.filter(issue_date__gte=filters.issued_from)
    if filters.issued_to:
        invoices = invoices.filter(issue_date__lte=filters.issued_to)
    return invoices


# The overdue list shows the longest overdue first: the order of the partial index on open
# invoices' due dates (Invoice.Meta), which its filter (`overdue_condition`) matches, so that a
# page reads its rows from the index instead of discarding the invoices not yet due.
OVERDUE_ORDERING = ("due_date", "id")


def list_ordering(filters: DocumentFilters) -> tuple[str, ...]:
    if isinstance(filters, InvoiceFilters) and filters.overdue:
        return OVERDUE_ORDERING
    return DOCUMENT_ORDERING


def credit_note_list(*, agency: Agency, filters: DocumentFilters) -> QuerySet[CreditNote]:
    """Credit notes with their credit amounts; the search also finds the credited invoice
    (by the start of its number)."""
    credit_notes = _filtered(CreditNote.objects.filter(agency=agency), filters)
    if filters.search:
        credit_notes = credit_notes | _filtered(
            CreditNote.objects.filter(agency=agency, invoice__number__istartswith=filters.search),
            DocumentFilters(client_id=filters.client_id, deal_id=filters.deal_id),
        )
    if filters.status:
        credit_notes = credit_notes.filter(status=filters.status)
    return credit_notes_with_credit(credit_notes.select_related("invoice"))


@dataclass(frozen=True)
class DocumentListPage(Generic[D]):
    page: Page[D]
    clients: list[Client]
    deals: list[Deal]


def document_list_page(
    *,
    agency: Agency,
    rows: QuerySet[D],
    filters: DocumentFilters,
    client_search: str = "",
    after: str | None = None,
    before: str | None = None,
) -> DocumentListPage[D]:
    """One page of a kind's filtered rows with what the client filter offers (the chosen
    client and the matches of `client_search`, bounded) and the deal filter's deals (two to
    four queries)."""
    return DocumentListPage(
        page=keyset_page_or_first(
            rows, ordering=list_ordering(filters), after=after, before=before
        ),
        clients=client_matches(agency=agency, search=client_search, selected_id=filters.client_id),
        deals=_deal_choices(agency, filters.client_id, filters.deal_id),
    )
