"""Reads of estimates and invoices for the staff pages: lists, documents, client and deal
summaries. Every read takes the agency; overdue is derived from the agency-local date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.db import models
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)

from clientledger.accounts.models import Agency
from clientledger.billing.documents.data import document_data, invoice_changed_since_issue
from clientledger.billing.models import (
    BillingDocument,
    Estimate,
    EstimateLine,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PortalLink,
    overdue_condition,
    partially_paid_condition,
)
from clientledger.billing.portal_tokens import document_portal_url, portal_token_hash
from clientledger.core import clock
from clientledger.core.audit import TimelineEntry, timeline_entries
from clientledger.core.models import AuditEvent
from clientledger.core.money import from_minor
from clientledger.core.pagination import Page, keyset_page_or_first
from clientledger.crm.models import Client, Contact, Deal
from clientledger.lines.data import LineData

DOCUMENT_ORDERING = ("-created_at", "-id")
TIMELINE_LENGTH = 50
# A client or deal page lists its most recent documents of each kind; the lists show all.
RECORD_PAGE_DOCUMENTS = 20

DocumentKind = Literal["estimate", "invoice"]
OWING_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE)


class InvoiceListStatus(models.TextChoices):
    """What the invoice list filters by: the stored states, and the derived "partially paid"
    (open invoices with part of them paid) after "open"."""

    DRAFT = InvoiceStatus.DRAFT.value, InvoiceStatus.DRAFT.label
    OPEN = InvoiceStatus.OPEN.value, InvoiceStatus.OPEN.label
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = InvoiceStatus.PAID.value, InvoiceStatus.PAID.label
    VOID = InvoiceStatus.VOID.value, InvoiceStatus.VOID.label
    UNCOLLECTIBLE = InvoiceStatus.UNCOLLECTIBLE.value, InvoiceStatus.UNCOLLECTIBLE.label


def _with_states(invoices: QuerySet[Invoice], today: dt.date) -> QuerySet[Invoice]:
    """Invoices with their derived states, `is_overdue` and `is_partially_paid`, from SQL:
    pages and the API read these rather than deciding again in Python."""
    return invoices.annotate(
        is_overdue=ExpressionWrapper(overdue_condition(today), output_field=BooleanField()),
        is_partially_paid=ExpressionWrapper(
            partially_paid_condition(), output_field=BooleanField()
        ),
    )


def _balance_minor() -> Any:
    return F("total_minor") - F("amount_paid_minor") - F("amount_credited_minor")


def _client_choices(agency: Agency) -> list[Client]:
    return list(Client.objects.filter(agency=agency).only("id", "name").order_by("name", "id"))


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


def _search(documents: QuerySet[Any], search: str) -> QuerySet[Any]:
    if not search:
        return documents
    return documents.filter(Q(number__icontains=search) | Q(client__name__icontains=search))


# --- estimate list -----------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateFilters:
    search: str = ""
    status: str = ""
    client_id: int | None = None
    deal_id: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.search or self.status or self.client_id or self.deal_id)


def estimate_list(*, agency: Agency, filters: EstimateFilters) -> QuerySet[Estimate]:
    estimates = _search(
        Estimate.objects.filter(agency=agency).select_related("client", "deal"), filters.search
    )
    if filters.status:
        estimates = estimates.filter(status=filters.status)
    if filters.client_id:
        estimates = estimates.filter(client_id=filters.client_id)
    if filters.deal_id:
        estimates = estimates.filter(deal_id=filters.deal_id)
    return estimates


@dataclass(frozen=True)
class EstimateListPage:
    page: Page[Estimate]
    clients: list[Client]
    deals: list[Deal]


def estimate_list_page(
    *,
    agency: Agency,
    filters: EstimateFilters,
    after: str | None = None,
    before: str | None = None,
) -> EstimateListPage:
    """One page of estimates with the filter's clients and deals (two or three queries)."""
    return EstimateListPage(
        page=keyset_page_or_first(
            estimate_list(agency=agency, filters=filters),
            ordering=DOCUMENT_ORDERING,
            after=after,
            before=before,
        ),
        clients=_client_choices(agency),
        deals=_deal_choices(agency, filters.client_id, filters.deal_id),
    )


# --- invoice list ------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFilters:
    search: str = ""
    status: str = ""
    client_id: int | None = None
    deal_id: int | None = None
    overdue: bool = False
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None

    @property
    def active(self) -> bool:
        return any(
            (
                self.search,
                self.status,
                self.client_id,
                self.deal_id,
                self.overdue,
                self.issued_from,
                self.issued_to,
            )
        )


def invoice_list(*, agency: Agency, filters: InvoiceFilters, today: dt.date) -> QuerySet[Invoice]:
    """Invoices with `is_overdue`, filtered; the date range is on the issue date."""
    invoices = _search(
        _with_states(Invoice.objects.filter(agency=agency), today).select_related("client", "deal"),
        filters.search,
    )
    if filters.status == InvoiceListStatus.PARTIALLY_PAID:
        invoices = invoices.filter(partially_paid_condition())
    elif filters.status:
        invoices = invoices.filter(status=filters.status)
    if filters.client_id:
        invoices = invoices.filter(client_id=filters.client_id)
    if filters.deal_id:
        invoices = invoices.filter(deal_id=filters.deal_id)
    if filters.overdue:
        invoices = invoices.filter(overdue_condition(today))
    if filters.issued_from:
        invoices = invoices.filter(issue_date__gte=filters.issued_from)
    if filters.issued_to:
        invoices = invoices.filter(issue_date__lte=filters.issued_to)
    return invoices


@dataclass(frozen=True)
class InvoiceListPage:
    page: Page[Invoice]
    clients: list[Client]
    deals: list[Deal]
    today: dt.date


def invoice_list_page(
    *,
    agency: Agency,
    filters: InvoiceFilters,
    after: str | None = None,
    before: str | None = None,
) -> InvoiceListPage:
    """One page of invoices with the filter's clients and deals (two or three queries)."""
    today = clock.agency_today(agency)
    return InvoiceListPage(
        page=keyset_page_or_first(
            invoice_list(agency=agency, filters=filters, today=today),
            ordering=DOCUMENT_ORDERING,
            after=after,
            before=before,
        ),
        clients=_client_choices(agency),
        deals=_deal_choices(agency, filters.client_id, filters.deal_id),
        today=today,
    )


# --- one document ------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    label: str
    is_billing: bool


@dataclass(frozen=True)
class DocumentOverview:
    """A document as the staff page shows it: `printed` is what its PDF prints (the same
    data, so the page looks like the document), plus its links and history."""

    document: Estimate | Invoice
    printed: dict[str, Any]
    timeline: list[TimelineEntry]
    live_links: int
    portal_url: str | None

    @property
    def kind(self) -> DocumentKind:
        return "invoice" if isinstance(self.document, Invoice) else "estimate"

    @property
    def is_overdue(self) -> bool:
        return bool(getattr(self.document, "is_overdue", False))

    @property
    def is_partially_paid(self) -> bool:
        return bool(getattr(self.document, "is_partially_paid", False))

    @property
    def changed_since_issue(self) -> bool:
        """An issued invoice whose original PDF no longer tells its payment state."""
        invoice = self.document
        return isinstance(invoice, Invoice) and invoice_changed_since_issue(invoice)

    @property
    def converted_invoice(self) -> Invoice | None:
        """The invoice an estimate became (selected with it), if any."""
        if not isinstance(self.document, Estimate):
            return None
        return getattr(self.document, "invoice", None)


def document_timeline(
    *, agency: Agency, document: BillingDocument, limit: int = TIMELINE_LENGTH
) -> list[TimelineEntry]:
    """What happened to one document: edits, sends, the client's views and answers."""
    events = AuditEvent.objects.filter(
        agency=agency, subject_type=document._meta.label_lower, subject_id=document.pk
    ).select_related("actor", "client")[:limit]
    return timeline_entries(events)


def _lines(model: type[EstimateLine] | type[InvoiceLine]) -> Prefetch:
    return Prefetch(
        "lines",
        queryset=model.objects.select_related("service", "tax_1", "tax_2").order_by(
            "position", "id"
        ),
    )


def _estimates(agency: Agency) -> QuerySet[Estimate]:
    return Estimate.objects.filter(agency=agency).select_related(
        "agency", "client", "deal", "invoice"
    )


def _invoices(agency: Agency) -> QuerySet[Invoice]:
    return _with_states(
        Invoice.objects.filter(agency=agency), clock.agency_today(agency)
    ).select_related("agency", "client", "deal", "estimate")


def estimate_get(*, agency: Agency, pk: int) -> Estimate:
    """An estimate with its client, deal, agency, invoice and lines (raises DoesNotExist)."""
    return _estimates(agency).prefetch_related(_lines(EstimateLine)).get(pk=pk)


def invoice_get(*, agency: Agency, pk: int) -> Invoice:
    """An invoice with its client, deal, agency, estimate, lines and derived states (raises
    DoesNotExist)."""
    return _invoices(agency).prefetch_related(_lines(InvoiceLine)).get(pk=pk)


def _overview(agency: Agency, document: Estimate | Invoice) -> DocumentOverview:
    link_owner = {"invoice" if isinstance(document, Invoice) else "estimate": document}
    return DocumentOverview(
        document=document,
        printed=document_data(document),
        timeline=document_timeline(agency=agency, document=document),
        live_links=PortalLink.objects.filter(**link_owner, revoked_at=None).count(),
        portal_url=document_portal_url(document),
    )


def estimate_overview(*, agency: Agency, pk: int) -> DocumentOverview:
    return _overview(agency, _estimates(agency).get(pk=pk))


def invoice_overview(*, agency: Agency, pk: int) -> DocumentOverview:
    return _overview(agency, _invoices(agency).get(pk=pk))


def document_recipients(*, client: Client) -> list[Recipient]:
    """Whom a document can be sent to: the client's contacts with an email, then its billing
    email; billing contacts and the billing email are the suggested recipients."""
    billing_email = client.billing_email.strip().lower()
    recipients: dict[str, Recipient] = {}
    contacts = Contact.objects.filter(agency_id=client.agency_id, client=client).exclude(email="")
    for contact in contacts.order_by("-is_billing_contact", "name", "id"):
        email = contact.email.strip().lower()
        suggested = contact.is_billing_contact or email == billing_email
        recipients.setdefault(email, Recipient(email, f"{contact.name} <{email}>", suggested))
    if billing_email and billing_email not in recipients:
        recipients[billing_email] = Recipient(
            billing_email, f"Billing email <{billing_email}>", True
        )
    return list(recipients.values())


def suggested_recipients(recipients: Iterable[Recipient]) -> list[str]:
    """Where a document goes unless the sender chooses: billing contacts and billing email."""
    return [recipient.email for recipient in recipients if recipient.is_billing]


def converted_invoice_of(*, agency: Agency, estimate: Estimate) -> Invoice | None:
    return Invoice.objects.filter(agency=agency, estimate=estimate).first()


# --- a client's or a deal's documents ----------------------------------------------------


@dataclass(frozen=True)
class DocumentRow:
    kind: DocumentKind
    document: Estimate | Invoice
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
    outstanding: Decimal
    outstanding_count: int
    overdue: Decimal
    overdue_count: int
    currency: str
    # The document lists' filter for the same documents, e.g. "client=3".
    list_query: str

    @property
    def is_truncated(self) -> bool:
        return len(self.rows) < self.estimate_count + self.invoice_count


def _record_documents(
    agency: Agency, currency: str, *, scope: dict[str, Client | Deal], list_query: str
) -> RecordDocuments:
    """Four queries whatever the number of documents."""
    today = clock.agency_today(agency)
    estimates = list(
        Estimate.objects.filter(agency=agency, **scope).order_by(*DOCUMENT_ORDERING)[
            :RECORD_PAGE_DOCUMENTS
        ]
    )
    invoices = list(
        _with_states(Invoice.objects.filter(agency=agency, **scope), today).order_by(
            *DOCUMENT_ORDERING
        )[:RECORD_PAGE_DOCUMENTS]
    )
    owing = Q(
        currency=currency, total_minor__gt=F("amount_paid_minor") + F("amount_credited_minor")
    )
    outstanding = Q(status=InvoiceStatus.OPEN) & owing
    overdue = overdue_condition(today) & owing
    invoice_summary = Invoice.objects.filter(agency=agency, **scope).aggregate(
        count=Count("id"),
        outstanding_minor=Sum(_balance_minor(), filter=outstanding),
        outstanding_count=Count("id", filter=outstanding),
        overdue_minor=Sum(_balance_minor(), filter=overdue),
        overdue_count=Count("id", filter=overdue),
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
    rows.sort(key=lambda row: (row.document.created_at, row.document.pk), reverse=True)
    return RecordDocuments(
        rows=rows,
        estimate_count=Estimate.objects.filter(agency=agency, **scope).count(),
        invoice_count=invoice_summary["count"],
        outstanding=from_minor(invoice_summary["outstanding_minor"] or 0, currency),
        outstanding_count=invoice_summary["outstanding_count"],
        overdue=from_minor(invoice_summary["overdue_minor"] or 0, currency),
        overdue_count=invoice_summary["overdue_count"],
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


def deal_lines_data(deal: Deal) -> list[LineData]:
    return [
        LineData.from_line(line) for line in deal.lines.select_related("service", "tax_1", "tax_2")
    ]


def portal_link_resolve(token: str) -> PortalLink | None:
    if not token or len(token) > 100:
        return None
    return (
        PortalLink.objects.select_related(
            "estimate__agency",
            "estimate__client",
            "invoice__agency__stripe_account",
            "invoice__client",
        )
        .filter(token_hash=portal_token_hash(token), revoked_at=None)
        # The portal badges a partly paid invoice by the lists' own rule, in the same query.
        .annotate(
            invoice_is_partially_paid=ExpressionWrapper(
                partially_paid_condition(through="invoice__"), output_field=BooleanField()
            )
        )
        .first()
    )
