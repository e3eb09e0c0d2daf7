"""What the document endpoints answer: one schema per kind over the fields all kinds share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Model
from ninja import Field

from clientledger.api.outputs import DecimalStr, Output, discount_str, minor_money_str, money_str
from clientledger.billing.models import (
    CreditNoteLine,
    CreditNoteStatus,
    CreditSettlement,
    EstimateStatus,
    InvoiceStatus,
    invoice_balance_due_minor,
)
from clientledger.billing.portal_tokens import nonce_portal_url
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
    """What a line's output reads, by the line's attribute names: the documents' lines are
    read as plain rows of these columns (`LINE_COLUMNS`), as the documents are.
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


# A document as the API shows it: these columns of the kind's list query (`values()`), with
# its newest live link's nonce (`portal_tokens.with_live_portal_nonce`). The models of a page
# of 50 invoices with their lines, clients, deals and estimates (~250) cost ~30% of the
# request's CPU (issue 14).
DocumentRow = Mapping[str, Any]
DOCUMENT_COLUMNS = (
    "id",
    "number",
    "currency",
    "client_id",
    "client__name",
    "deal_id",
    "deal__title",
    "notes",
    "terms",
    "subtotal_minor",
    "discount_minor",
    "tax_total_minor",
    "total_minor",
    "tax_breakdown",
    "issue_date",
    "sent_at",
    "created_at",
    "updated_at",
    "live_portal_nonce",
)


def _document_fields(row: DocumentRow, lines: list[LineRow], pdf_url: str) -> dict[str, Any]:
    currency = row["currency"]
    deal_id = row["deal_id"]
    return {
        "id": row["id"],
        "number": row["number"] or None,
        "currency": currency,
        "client": ClientRef(id=row["client_id"], name=row["client__name"]),
        "deal": DealRef(id=deal_id, title=row["deal__title"]) if deal_id is not None else None,
        "notes": row["notes"],
        "terms": row["terms"],
        "lines": [DocumentLineOut.of(line, currency) for line in lines],
        "subtotal": minor_money_str(row["subtotal_minor"], currency),
        "discount_total": minor_money_str(row["discount_minor"], currency),
        "tax_total": minor_money_str(row["tax_total_minor"], currency),
        "total": minor_money_str(row["total_minor"], currency),
        "tax_breakdown": [DocumentTaxOut.of(tax, currency) for tax in row["tax_breakdown"]],
        "issue_date": row["issue_date"],
        "portal_url": nonce_portal_url(row["live_portal_nonce"]),
        "pdf_url": pdf_url,
        "sent_at": row["sent_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _reference(pk: int | None, number: str | None) -> DocumentRef | None:
    return DocumentRef(id=pk, number=number or None) if pk is not None else None


ESTIMATE_COLUMNS = (
    *DOCUMENT_COLUMNS,
    "status",
    "valid_until",
    "invoice__id",
    "invoice__number",
    "viewed_at",
    "approved_at",
    "declined_at",
    "decline_reason",
    "converted_at",
)


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
    def of(cls, row: DocumentRow, lines: list[LineRow]) -> EstimateOut:
        """An estimate's row of `ESTIMATE_COLUMNS` and its lines."""
        pdf_url = url_with("api:estimate_pdf", "estimate_id", row["id"])
        currency = row["currency"]
        return cls(
            **_document_fields(row, lines, pdf_url),
            status=EstimateStatus(row["status"]),
            # An estimate asks for no payment: nothing is paid and its total is the balance.
            amount_paid=minor_money_str(0, currency),
            balance_due=minor_money_str(row["total_minor"], currency),
            due_date=None,
            valid_until=row["valid_until"],
            invoice=_reference(row["invoice__id"], row["invoice__number"]),
            viewed_at=row["viewed_at"],
            approved_at=row["approved_at"],
            declined_at=row["declined_at"],
            decline_reason=row["decline_reason"],
            converted_at=row["converted_at"],
        )


# With the derived states the invoice selectors annotate (`invoices_with_states`).
INVOICE_COLUMNS = (
    *DOCUMENT_COLUMNS,
    "status",
    "amount_paid_minor",
    "amount_credited_minor",
    "due_date",
    "is_overdue",
    "is_partially_paid",
    "estimate_id",
    "estimate__number",
    "issued_at",
    "voided_at",
    "void_reason",
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
    def of(cls, row: DocumentRow, lines: list[LineRow]) -> InvoiceOut:
        """An invoice's row of `INVOICE_COLUMNS` and its lines."""
        pdf_url = url_with("api:invoice_pdf", "invoice_id", row["id"])
        currency = row["currency"]
        balance_due = invoice_balance_due_minor(
            status=row["status"],
            total_minor=row["total_minor"],
            amount_paid_minor=row["amount_paid_minor"],
            amount_credited_minor=row["amount_credited_minor"],
        )
        return cls(
            **_document_fields(row, lines, pdf_url),
            status=InvoiceStatus(row["status"]),
            amount_paid=minor_money_str(row["amount_paid_minor"], currency),
            amount_credited=minor_money_str(row["amount_credited_minor"], currency),
            balance_due=minor_money_str(balance_due, currency),
            due_date=row["due_date"],
            overdue=row["is_overdue"],
            partially_paid=row["is_partially_paid"],
            estimate=_reference(row["estimate_id"], row["estimate__number"]),
            issued_at=row["issued_at"],
            voided_at=row["voided_at"],
            void_reason=row["void_reason"],
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
    def of(cls, row: DocumentRow, lines: list[LineRow]) -> CreditNoteOut:
        """A credit note's row of `CREDIT_NOTE_COLUMNS` (with the credit amounts the credit
        note selectors annotate, `credits.credit_notes_with_credit`) and its lines."""
        pdf_url = url_with("api:credit_note_pdf", "credit_note_id", row["id"])
        currency = row["currency"]
        fields = _document_fields(row, lines, pdf_url)
        fields["lines"] = [
            CreditNoteLineOut(
                **DocumentLineOut.of(line, currency).model_dump(),
                invoice_line_id=line.invoice_line_id,
            )
            for line in lines
        ]
        return cls(
            **fields,
            status=CreditNoteStatus(row["status"]),
            amount_paid=minor_money_str(0, currency),
            balance_due=minor_money_str(0, currency),
            due_date=None,
            invoice=DocumentRef(id=row["invoice_id"], number=row["invoice__number"] or None),
            invoice_issue_date=row["invoice__issue_date"],
            reason=row["reason"],
            settlement=CreditSettlement(row["settlement"]),
            amount_applied=minor_money_str(int(row["amount_applied_minor"]), currency),
            amount_refunded=minor_money_str(int(row["amount_refunded_minor"]), currency),
            remaining_credit=minor_money_str(int(row["remaining_credit_minor"]), currency),
            issued_at=row["issued_at"],
        )


CREDIT_NOTE_COLUMNS = (
    *DOCUMENT_COLUMNS,
    "status",
    "invoice_id",
    "invoice__number",
    "invoice__issue_date",
    "reason",
    "settlement",
    "amount_applied_minor",
    "amount_refunded_minor",
    "remaining_credit_minor",
    "issued_at",
)
