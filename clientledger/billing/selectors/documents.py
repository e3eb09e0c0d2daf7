"""One estimate or invoice as the staff pages, the API and the portal read it: the document
with its lines, its overview, whom it can be sent to and its links."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, QuerySet

from clientledger.accounts.models import Agency
from clientledger.billing.documents.data import document_data, invoice_changed_since_issue
from clientledger.billing.models import (
    BillingDocument,
    CreditNote,
    CreditNoteLine,
    CreditSettlement,
    Estimate,
    EstimateLine,
    Invoice,
    InvoiceLine,
    PortalLink,
    invoice_is_fully_credited,
    partially_paid_condition,
)
from clientledger.billing.portal_tokens import document_portal_url, portal_token_hash
from clientledger.billing.selectors.common import DocumentKindName, invoices_with_states
from clientledger.billing.selectors.credits import (
    CreditNoteCredit,
    credit_notes_with_credit,
    credit_of,
)
from clientledger.core import clock
from clientledger.core.audit import TimelineEntry, timeline_entries
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Contact, Deal
from clientledger.lines.data import LineData

TIMELINE_LENGTH = 50


@dataclass(frozen=True)
class Recipient:
    email: str
    label: str
    is_billing: bool


@dataclass(frozen=True)
class DocumentOverview:
    """A document as the staff page shows it: `printed` is what its PDF prints (the same
    data, so the page looks like the document), plus its links and history."""

    document: Estimate | Invoice | CreditNote
    printed: dict[str, Any]
    timeline: list[TimelineEntry]
    live_links: int
    portal_url: str | None
    # An invoice's credit notes; a credit note's amounts (applied, refunded, left).
    credit_notes: tuple[CreditNote, ...] = ()
    credit: CreditNoteCredit | None = None

    @property
    def kind(self) -> DocumentKindName:
        if isinstance(self.document, CreditNote):
            return "credit_note"
        return "invoice" if isinstance(self.document, Invoice) else "estimate"

    @property
    def settlement_choices(self) -> list[tuple[str, str]]:
        return list(CreditSettlement.choices)

    @property
    def is_fully_credited(self) -> bool:
        return isinstance(self.document, Invoice) and invoice_is_fully_credited(self.document)

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


def _lines(model: type[EstimateLine] | type[InvoiceLine] | type[CreditNoteLine]) -> Prefetch:
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
    return invoices_with_states(
        Invoice.objects.filter(agency=agency), clock.agency_today(agency)
    ).select_related("agency", "client", "deal", "estimate")


def estimate_get(*, agency: Agency, pk: int) -> Estimate:
    """An estimate with its client, deal, agency, invoice and lines (raises DoesNotExist)."""
    return _estimates(agency).prefetch_related(_lines(EstimateLine)).get(pk=pk)


def invoice_get(*, agency: Agency, pk: int) -> Invoice:
    """An invoice with its client, deal, agency, estimate, lines and derived states (raises
    DoesNotExist)."""
    return _invoices(agency).prefetch_related(_lines(InvoiceLine)).get(pk=pk)


def _credit_notes(agency: Agency) -> QuerySet[CreditNote]:
    """With their credit amounts (`credits.credit_of`)."""
    return credit_notes_with_credit(
        CreditNote.objects.filter(agency=agency).select_related(
            "agency", "client", "deal", "invoice"
        )
    )


def credit_note_get(*, agency: Agency, pk: int) -> CreditNote:
    """A credit note with its client, deal, agency, invoice, lines and credit amounts (raises
    DoesNotExist)."""
    return _credit_notes(agency).prefetch_related(_lines(CreditNoteLine)).get(pk=pk)


def _overview(agency: Agency, document: Estimate | Invoice | CreditNote) -> DocumentOverview:
    link_owner = {_LINK_KEYS[type(document)]: document}
    credit_notes: tuple[CreditNote, ...] = ()
    if isinstance(document, Invoice):
        credit_notes = tuple(
            credit_notes_with_credit(document.credit_notes.order_by("created_at", "id"))
        )
    return DocumentOverview(
        document=document,
        printed=document_data(document),
        timeline=document_timeline(agency=agency, document=document),
        live_links=PortalLink.objects.filter(**link_owner, revoked_at=None).count(),
        portal_url=document_portal_url(document),
        credit_notes=credit_notes,
        credit=credit_of(document) if isinstance(document, CreditNote) else None,
    )


# The key a portal link gives each kind of document.
_LINK_KEYS: dict[type[BillingDocument], str] = {
    Estimate: "estimate",
    Invoice: "invoice",
    CreditNote: "credit_note",
}


def estimate_overview(*, agency: Agency, pk: int) -> DocumentOverview:
    return _overview(agency, _estimates(agency).get(pk=pk))


def invoice_overview(*, agency: Agency, pk: int) -> DocumentOverview:
    return _overview(agency, _invoices(agency).get(pk=pk))


def credit_note_overview(*, agency: Agency, pk: int) -> DocumentOverview:
    return _overview(agency, _credit_notes(agency).get(pk=pk))


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


def deal_lines_data(deal: Deal) -> list[LineData]:
    return [
        LineData.from_line(line) for line in deal.lines.select_related("service", "tax_1", "tax_2")
    ]


# What a link may open, with what its portal page reads alongside (a credit note names the
# invoice it corrects; an invoice's agency tells whether it can be paid online).
PORTAL_DOCUMENTS: tuple[tuple[str, type[BillingDocument], tuple[str, ...]], ...] = (
    ("estimate", Estimate, ("agency", "client")),
    ("invoice", Invoice, ("agency__stripe_account", "client")),
    ("credit_note", CreditNote, ("agency", "client", "invoice")),
)


def portal_link_resolve(token: str) -> PortalLink | None:
    """The live link of `token`, its document loaded with it (an invoice annotated with
    `is_partially_paid`, the lists' own rule). Two small queries: one joining every kind a
    link may open (ten joins, 250 columns) cost twice the CPU to build, plan and read."""
    if not token or len(token) > 100:
        return None
    link = PortalLink.objects.filter(token_hash=portal_token_hash(token), revoked_at=None).first()
    if link is None:
        return None
    for field, model, related in PORTAL_DOCUMENTS:
        document_id = getattr(link, f"{field}_id")
        if document_id is None:
            continue
        documents = model._default_manager.select_related(*related).filter(pk=document_id)
        if model is Invoice:
            documents = documents.annotate(
                is_partially_paid=ExpressionWrapper(
                    partially_paid_condition(), output_field=BooleanField()
                )
            )
        setattr(link, field, documents.first())
        break
    return link
