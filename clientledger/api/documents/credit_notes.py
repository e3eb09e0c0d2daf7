"""The credit note's own endpoints: created from an invoice with lines tied to the invoice's,
its lines replaced, issuing it, and settling its credit (apply, keep, refund)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import require
from clientledger.api.documents.inputs import (
    CreditApplyToIn,
    CreditLineIn,
    CreditLinesIn,
    CreditNoteIn,
    CreditNoteIssueIn,
    CreditRefundIn,
)
from clientledger.api.documents.kinds import CREDIT_NOTE_API
from clientledger.api.documents.outputs import CreditNoteOut, DocumentOut
from clientledger.api.documents.routes import document, document_out, operation_id, service_errors
from clientledger.api.inputs import RowId
from clientledger.api.lines import lines_data
from clientledger.api.outputs import responses
from clientledger.api.service_errors import api_field_names
from clientledger.billing.models import CreditSettlement, Invoice
from clientledger.billing.selectors import invoice_get
from clientledger.billing.services.credit_notes import (
    CreditLine,
    credit_note_create,
    credit_note_issue,
    credit_note_lines_replace,
)
from clientledger.billing.services.credit_spending import (
    credit_note_apply,
    credit_note_settlement_change,
)
from clientledger.core.money import to_minor
from clientledger.core.permissions import AgencyRequest
from clientledger.payments.services.common import minor_amount
from clientledger.payments.services.credit_note_refunds import credit_note_refund

router = CREDIT_NOTE_API.router
CREDIT_FIELD_NAMES = {"invoice": "invoice_id", "invoice_line": "invoice_line_id"}


def _agency_invoice(agency: Agency, invoice_id: int) -> Invoice:
    try:
        return invoice_get(agency=agency, pk=invoice_id)
    except Invoice.DoesNotExist:
        raise ValidationError({"invoice_id": "Choose an invoice of your agency."}) from None


def _credit_lines(agency: Agency, lines: list[CreditLineIn]) -> list[CreditLine]:
    data = lines_data(agency=agency, lines=list(lines))
    return [
        CreditLine(data=line_data, invoice_line_id=line.invoice_line_id)
        for line_data, line in zip(data, lines, strict=True)
    ]


@router.post(
    "",
    response=responses({201: CreditNoteOut}),
    summary="Create a credit note for an invoice",
    description=(
        "A draft credit note of an issued (not void) invoice. Without `lines` it credits every "
        "line of the invoice not credited yet; lines naming `invoice_line_id` take that line's "
        "taxes, so the tax is reversed exactly. Never more than is still creditable, per line "
        "and in total."
    ),
    operation_id=operation_id("create_credit_note"),
)
def create_credit_note(request: AgencyRequest, payload: CreditNoteIn) -> tuple[int, DocumentOut]:
    agency = require(request, CREDIT_NOTE_API.kind.edit_perm)
    invoice = _agency_invoice(agency, payload.invoice_id)
    lines = _credit_lines(agency, payload.lines) if payload.lines is not None else None
    with api_field_names(CREDIT_FIELD_NAMES), service_errors():
        created = credit_note_create(
            invoice=invoice,
            actor=request.user,
            reason=payload.reason,
            settlement=payload.settlement,
            lines=lines,
            notes=payload.notes,
            terms=payload.terms,
            currency=payload.currency,
        )
    return 201, document_out(CREDIT_NOTE_API, agency, created.pk)


@router.put(
    "/{credit_note_id}/lines",
    response=responses({200: CreditNoteOut}),
    summary="Replace a draft credit note's lines",
    description="All lines are replaced at once: every line valid and creditable, or nothing "
    "changes.",
    operation_id=operation_id("replace_credit_note_lines"),
)
def replace_credit_note_lines(
    request: AgencyRequest, credit_note_id: RowId, payload: CreditLinesIn
) -> DocumentOut:
    draft = document(CREDIT_NOTE_API, request, CREDIT_NOTE_API.kind.edit_perm, credit_note_id)
    lines = _credit_lines(draft.agency, payload.lines)
    with api_field_names(CREDIT_FIELD_NAMES), service_errors():
        credit_note_lines_replace(credit_note=draft, actor=request.user, lines=lines)
    return document_out(CREDIT_NOTE_API, draft.agency, credit_note_id)


@router.post(
    "/{credit_note_id}/issue",
    response=responses({200: CreditNoteOut}),
    summary="Issue a draft credit note",
    description=(
        "Gives it the next number of the agency's credit note series, freezes it, takes its "
        "total off the client's balance and settles it as chosen."
    ),
    operation_id=operation_id("issue_credit_note"),
)
def issue_credit_note(
    request: AgencyRequest, credit_note_id: RowId, payload: CreditNoteIssueIn
) -> DocumentOut:
    draft = document(CREDIT_NOTE_API, request, CREDIT_NOTE_API.kind.edit_perm, credit_note_id)
    with service_errors():
        credit_note_issue(credit_note=draft, actor=request.user, issue_date=payload.issue_date)
    return document_out(CREDIT_NOTE_API, draft.agency, credit_note_id)


@router.post(
    "/{credit_note_id}/apply",
    response=responses({200: CreditNoteOut}),
    summary="Apply a credit note's credit to an invoice",
    description=(
        "Without `invoice_id`: the settlement becomes `apply` and the credit reduces the "
        "credit note's own invoice as far as it still owes. With `invoice_id` and `amount`: "
        "that much pays part of another open invoice of the client. Credit is never spent "
        "twice."
    ),
    operation_id=operation_id("apply_credit_note"),
)
def apply_credit_note(
    request: AgencyRequest, credit_note_id: RowId, payload: CreditApplyToIn
) -> DocumentOut:
    note = document(CREDIT_NOTE_API, request, CREDIT_NOTE_API.kind.edit_perm, credit_note_id)
    agency = note.agency
    with api_field_names(CREDIT_FIELD_NAMES), service_errors():
        if payload.invoice_id is None:
            if payload.amount is not None:
                raise ValidationError({"amount": "Send `invoice_id` with an amount."})
            credit_note_settlement_change(
                credit_note=note, actor=request.user, settlement=CreditSettlement.APPLY
            )
        else:
            invoice = _agency_invoice(agency, payload.invoice_id)
            if payload.amount is None:
                raise ValidationError({"amount": "Enter the amount of credit to apply."})
            credit_note_apply(
                agency=agency,
                actor=request.user,
                credit_note=note,
                invoice=invoice,
                amount_minor=_amount_minor(payload.amount, note.currency),
            )
    return document_out(CREDIT_NOTE_API, agency, credit_note_id)


def _amount_minor(amount: Decimal, currency: str) -> int:
    minor_amount(amount, currency, "amount")
    return to_minor(amount, currency)


@router.post(
    "/{credit_note_id}/keep",
    response=responses({200: CreditNoteOut}),
    summary="Keep a credit note's credit for the client",
    description="While none of it is spent: the credit stays the client's, to apply later.",
    operation_id=operation_id("keep_credit_note"),
)
def keep_credit_note(request: AgencyRequest, credit_note_id: RowId) -> DocumentOut:
    note = document(CREDIT_NOTE_API, request, CREDIT_NOTE_API.kind.edit_perm, credit_note_id)
    with service_errors():
        credit_note_settlement_change(
            credit_note=note, actor=request.user, settlement=CreditSettlement.KEEP
        )
    return document_out(CREDIT_NOTE_API, note.agency, credit_note_id)


@router.post(
    "/{credit_note_id}/refund",
    response=responses({200: CreditNoteOut}),
    summary="Refund a credit note's credit",
    description=(
        "Pays the credit back out of what the invoice received: a card or bank payment "
        "through Stripe (pending until Stripe confirms; a failure gives the credit back), any "
        "other recorded as refunded."
    ),
    operation_id=operation_id("refund_credit_note"),
)
def refund_credit_note(
    request: AgencyRequest, credit_note_id: RowId, payload: CreditRefundIn
) -> DocumentOut:
    note = document(CREDIT_NOTE_API, request, Perm.PAYMENT_RECORD, credit_note_id)
    with service_errors():
        credit_note_refund(
            agency=note.agency,
            actor=request.user,
            credit_note=note,
            amount=payload.amount,
            reason=payload.reason,
        )
    return document_out(CREDIT_NOTE_API, note.agency, credit_note_id)
