"""What the document endpoints answer: one schema per kind over the fields all kinds share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Model
from ninja import Field

from clientledger.api.outputs import DecimalStr, Output, discount_str, minor_money_str, money_str
from clientledger.billing.models import (
    BillingDocument,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    CreditSettlement,
    Estimate,
    EstimateStatus,
    Invoice,
    InvoiceStatus,
)
from clientledger.billing.portal_tokens import document_portal_url
from clientledger.billing.selectors.credits import credit_of
from clientledger.catalog.models import UnitType
from clientledger.core.http import url_with
from clientledger.core.money import plain_decimal

PORTAL_URL_NOTE = (
    "The client's link to view (and, for estimates, approve) the document: the newest live "
    "link, created when the document is sent. Null until it is sent or when every link was "
    "revoked."
)


class ClientRef(Output):
    id: int
    name: str


class DealRef(Output):
    id: int
    title: str


class DocumentRef(Output):
    id: int
    number: str | None = Field(description="Null while the document is a draft.")


class LineRow(NamedTuple):
    """What a line's output reads, by the line's attribute names: a list page reads these
    columns as plain rows (`LINE_COLUMNS`); a model per line cost a fifth of its CPU.
    (billing's batches write lines as rows of another shape, their stored columns.)"""

    id: int
    position: int
    service_id: int | None
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    tax_1_id: int | None
    tax_2_id: int | None
    net_minor: int
    tax_minor: int
    total_minor: int
    # A credit note's lines only: the invoice line it credits.
    invoice_line_id: int | None = None


LINE_COLUMNS = LineRow._fields[:-1]


def line_columns(model: type[Model]) -> tuple[str, ...]:
    """The `LineRow` columns `model` has."""
    return (*LINE_COLUMNS, "invoice_line_id") if model is CreditNoteLine else LINE_COLUMNS


class DocumentLineOut(Output):
    id: int
    position: int
    service_id: int | None
    description: str
    quantity: DecimalStr
    unit: UnitType
    unit_price: DecimalStr
    discount_kind: str
    discount_value: DecimalStr
    tax_rate_ids: list[int]
    net: DecimalStr = Field(description="After discount, before exclusive taxes.")
    tax: DecimalStr
    total: DecimalStr

    @classmethod
    def of(cls, line: LineRow, currency: str) -> DocumentLineOut:
        return cls(
            id=line.id,
            position=line.position,
            service_id=line.service_id,
            description=line.description,
            quantity=plain_decimal(line.quantity),
            unit=UnitType(line.unit),
            unit_price=money_str(line.unit_price, currency),
            discount_kind=line.discount_kind,
            discount_value=discount_str(line.discount_kind, line.discount_value, currency),
            tax_rate_ids=[pk for pk in (line.tax_1_id, line.tax_2_id) if pk is not None],
            net=minor_money_str(line.net_minor, currency),
            tax=minor_money_str(line.tax_minor, currency),
            total=minor_money_str(line.total_minor, currency),
        )


class DocumentTaxOut(Output):
    name: str
    percent: DecimalStr
    is_inclusive: bool
    base: DecimalStr
    amount: DecimalStr

    @classmethod
    def of(cls, row: dict[str, Any], currency: str) -> DocumentTaxOut:
        return cls(
            name=row["name"],
            percent=plain_decimal(Decimal(row["percent"])),
            is_inclusive=row["is_inclusive"],
            base=money_str(Decimal(row["base"]), currency),
            amount=money_str(Decimal(row["amount"]), currency),
        )


class DocumentOut(Output):
    id: int
    number: str | None = Field(description="Null while the document is a draft.")
    currency: str = Field(description="The client's currency; every amount uses it.")
    client: ClientRef
    deal: DealRef | None
    notes: str
    terms: str
    lines: list[DocumentLineOut]
    subtotal: DecimalStr
    discount_total: DecimalStr
    tax_total: DecimalStr
    total: DecimalStr
    amount_paid: DecimalStr
    balance_due: DecimalStr
    tax_breakdown: list[DocumentTaxOut]
    issue_date: dt.date | None
    due_date: dt.date | None = Field(description="Invoices only; always null on estimates.")
    portal_url: str | None = Field(description=PORTAL_URL_NOTE)
    pdf_url: str = Field(description="This API's PDF of the document (send your token).")
    sent_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


# A list page's documents carry their lines, as `LineRow`s, in this attribute.
LISTED_LINES = "listed_lines"


def document_lines(document: BillingDocument) -> list[LineRow]:
    """The lines of a listed document, else those the selectors prefetched, as rows."""
    listed: list[LineRow] | None = getattr(document, LISTED_LINES, None)
    if listed is not None:
        return listed
    lines = document.lines.all()  # type: ignore[attr-defined]
    columns = line_columns(lines.model)
    return [LineRow(*(getattr(line, column) for column in columns)) for line in lines]


def _document_fields(document: Estimate | Invoice | CreditNote, pdf_url: str) -> dict[str, Any]:
    currency = document.currency
    return {
        "id": document.pk,
        "number": document.number or None,
        "currency": currency,
        "client": ClientRef(id=document.client_id, name=document.client.name),
        "deal": DealRef(id=document.deal.pk, title=document.deal.title) if document.deal else None,
        "notes": document.notes,
        "terms": document.terms,
        "lines": [DocumentLineOut.of(line, currency) for line in document_lines(document)],
        "subtotal": minor_money_str(document.subtotal_minor, currency),
        "discount_total": minor_money_str(document.discount_minor, currency),
        "tax_total": minor_money_str(document.tax_total_minor, currency),
        "total": minor_money_str(document.total_minor, currency),
        "tax_breakdown": [DocumentTaxOut.of(row, currency) for row in document.tax_breakdown],
        "issue_date": document.issue_date,
        "portal_url": document_portal_url(document),
        "pdf_url": pdf_url,
        "sent_at": document.sent_at,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
    }


def _reference(document: BillingDocument | None) -> DocumentRef | None:
    return DocumentRef(id=document.pk, number=document.number or None) if document else None


class EstimateOut(DocumentOut):
    status: EstimateStatus
    valid_until: dt.date | None
    invoice: DocumentRef | None = Field(description="The invoice it was converted into.")
    viewed_at: dt.datetime | None = Field(description="When the client first opened it.")
    approved_at: dt.datetime | None
    declined_at: dt.datetime | None
    decline_reason: str
    converted_at: dt.datetime | None

    @classmethod
    def of(cls, estimate: Estimate) -> EstimateOut:
        pdf_url = url_with("api:estimate_pdf", "estimate_id", estimate.pk)
        return cls(
            **_document_fields(estimate, pdf_url),
            status=EstimateStatus(estimate.status),
            # An estimate asks for no payment: nothing is paid and its total is the balance.
            amount_paid=minor_money_str(0, estimate.currency),
            balance_due=minor_money_str(estimate.total_minor, estimate.currency),
            due_date=None,
            valid_until=estimate.valid_until,
            invoice=_reference(getattr(estimate, "invoice", None)),
            viewed_at=estimate.viewed_at,
            approved_at=estimate.approved_at,
            declined_at=estimate.declined_at,
            decline_reason=estimate.decline_reason,
            converted_at=estimate.converted_at,
        )


class InvoiceOut(DocumentOut):
    status: InvoiceStatus
    amount_credited: DecimalStr
    overdue: bool = Field(description="Open and past its due date (in the agency's timezone).")
    partially_paid: bool = Field(
        description="Open, with part of the total paid or credited and the rest still owed."
    )
    estimate: DocumentRef | None = Field(description="The estimate it was converted from.")
    issued_at: dt.datetime | None
    voided_at: dt.datetime | None
    void_reason: str

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        """`invoice` as the invoice selectors load it, with its derived states."""
        pdf_url = url_with("api:invoice_pdf", "invoice_id", invoice.pk)
        currency = invoice.currency
        return cls(
            **_document_fields(invoice, pdf_url),
            status=InvoiceStatus(invoice.status),
            amount_paid=minor_money_str(invoice.amount_paid_minor, currency),
            amount_credited=minor_money_str(invoice.amount_credited_minor, currency),
            balance_due=minor_money_str(invoice.balance_due_minor, currency),
            due_date=invoice.due_date,
            overdue=invoice.is_overdue,  # type: ignore[attr-defined]
            partially_paid=invoice.is_partially_paid,  # type: ignore[attr-defined]
            estimate=_reference(invoice.estimate),
            issued_at=invoice.issued_at,
            voided_at=invoice.voided_at,
            void_reason=invoice.void_reason,
        )


class CreditNoteLineOut(DocumentLineOut):
    invoice_line_id: int | None = Field(
        description="The invoice line it credits; null for a free adjustment line."
    )


class CreditNoteOut(DocumentOut):
    """A credit note's `total` is the credit it gives; `amount_paid` and `balance_due` are
    always zero (it asks for no payment)."""

    status: CreditNoteStatus
    lines: list[CreditNoteLineOut]  # type: ignore[assignment]
    invoice: DocumentRef = Field(description="The invoice it corrects.")
    invoice_issue_date: dt.date | None
    reason: str
    settlement: CreditSettlement
    amount_applied: DecimalStr = Field(description="Credit spent on invoices.")
    amount_refunded: DecimalStr = Field(description="Credit paid back (pending refunds count).")
    remaining_credit: DecimalStr = Field(description="The client's credit still left of it.")
    issued_at: dt.datetime | None

    @classmethod
    def of(cls, credit_note: CreditNote) -> CreditNoteOut:
        """`credit_note` as the credit note selectors load it, with its credit amounts."""
        pdf_url = url_with("api:credit_note_pdf", "credit_note_id", credit_note.pk)
        currency = credit_note.currency
        credit = credit_of(credit_note)
        fields = _document_fields(credit_note, pdf_url)
        fields["lines"] = [
            CreditNoteLineOut(
                **DocumentLineOut.of(line, currency).model_dump(),
                invoice_line_id=line.invoice_line_id,
            )
            for line in document_lines(credit_note)
        ]
        invoice = credit_note.invoice
        return cls(
            **fields,
            status=CreditNoteStatus(credit_note.status),
            amount_paid=minor_money_str(0, currency),
            balance_due=minor_money_str(0, currency),
            due_date=None,
            invoice=DocumentRef(id=invoice.pk, number=invoice.number or None),
            invoice_issue_date=invoice.issue_date,
            reason=credit_note.reason,
            settlement=CreditSettlement(credit_note.settlement),
            amount_applied=minor_money_str(credit.applied_minor, currency),
            amount_refunded=minor_money_str(credit.refunded_minor, currency),
            remaining_credit=minor_money_str(credit.remaining_minor, currency),
            issued_at=credit_note.issued_at,
        )
