"""What the document endpoints accept: each kind's create, patch and list parameters, and the
send, issue and void bodies."""

from __future__ import annotations

from typing import Annotated

from ninja import Field

from clientledger.api.inputs import (
    Amount,
    ChoiceValue,
    Email,
    IsoDate,
    LongText,
    RowId,
    SearchText,
    StrictSchema,
    Text,
    partial_update,
)
from clientledger.api.lines import MAX_LINES, LineIn
from clientledger.api.pagination import PageParams
from clientledger.billing.models import CreditNoteStatus, CreditSettlement, EstimateStatus
from clientledger.billing.selectors import InvoiceListStatus
from clientledger.billing.services.sending import MAX_RECIPIENTS


class DocumentFields(StrictSchema):
    deal_id: RowId | None = Field(None, description="A deal of the document's client.")
    notes: LongText = ""
    terms: LongText = ""


class DocumentIn(DocumentFields):
    client_id: RowId | None = Field(
        None, description="A client of your agency; the document bills in its currency."
    )
    from_deal_id: RowId | None = Field(
        None, description="Copy a deal of your agency instead; send it alone."
    )
    lines: list[LineIn] = Field(default_factory=list, max_length=MAX_LINES)


class EstimateIn(DocumentIn):
    valid_until: IsoDate | None = Field(
        None, description="When empty, the agency's validity period applies on the first send."
    )


class InvoiceIn(DocumentIn):
    """Due and issue dates are set when the invoice is issued."""


@partial_update
class EstimatePatch(DocumentFields):
    """Only the fields sent are changed; only drafts can be changed."""

    valid_until: IsoDate | None = None


@partial_update
class InvoicePatch(DocumentFields):
    """Only the fields sent are changed; only drafts can be changed."""


class SendIn(StrictSchema):
    recipients: list[Email] | None = Field(
        None,
        max_length=MAX_RECIPIENTS,
        examples=[["ap@client.example"]],
        description="Omit to send to the client's billing contacts and billing email.",
    )
    message: LongText = Field("", description="A personal note shown above the document link.")


class IssueIn(StrictSchema):
    issue_date: IsoDate | None = Field(None, description="Today in the agency's timezone if empty.")
    due_date: IsoDate | None = Field(
        None, description="The issue date plus the client's (or agency's) payment terms if empty."
    )


class VoidIn(StrictSchema):
    reason: Annotated[str, Text(2000, required=True, multiline=True)]


class EstimateParams(PageParams):
    q: SearchText = Field(
        "", description="The start of the estimate number, or part of the client name."
    )
    status: EstimateStatus | None = None
    client_id: RowId | None = None
    deal_id: RowId | None = None


class InvoiceParams(PageParams):
    q: SearchText = Field(
        "", description="The start of the invoice number, or part of the client name."
    )
    status: InvoiceListStatus | None = Field(
        None, description="A status, or `partially_paid`: open with part of the total paid."
    )
    client_id: RowId | None = None
    deal_id: RowId | None = None
    overdue: bool = Field(False, description="Only open invoices past their due date.")
    issued_from: IsoDate | None = None
    issued_to: IsoDate | None = None


class CreditLineIn(LineIn):
    """A credit note line: `invoice_line_id` names the invoice line it credits (its service,
    unit, discount and taxes are the invoice line's, whatever is sent), or is left out for a
    free adjustment line."""

    invoice_line_id: RowId | None = Field(None, description="A line of the credited invoice.")


class CreditNoteIn(StrictSchema):
    invoice_id: RowId = Field(description="An issued (not void) invoice of your agency.")
    reason: Annotated[str, Text(2000, required=True, multiline=True)]
    settlement: Annotated[CreditSettlement, ChoiceValue] = Field(
        CreditSettlement.APPLY,
        description="`apply` reduces the invoice's balance at issue, `keep` keeps the credit "
        "for the client's invoices, `refund` leaves it for a refund.",
    )
    currency: str | None = Field(
        None, description="Optional; when sent it must be the invoice's currency."
    )
    notes: LongText = ""
    terms: LongText = ""
    lines: list[CreditLineIn] | None = Field(
        None,
        max_length=MAX_LINES,
        description="Left out: every line of the invoice not credited yet (a full credit).",
    )


@partial_update
class CreditNotePatch(StrictSchema):
    """Only the fields sent are changed; only drafts can be changed."""

    reason: Annotated[str, Text(2000, required=True, multiline=True)] | None = None
    settlement: Annotated[CreditSettlement, ChoiceValue] | None = None
    notes: LongText = ""
    terms: LongText = ""


class CreditLinesIn(StrictSchema):
    lines: list[CreditLineIn] = Field(max_length=MAX_LINES)


class CreditNoteIssueIn(StrictSchema):
    issue_date: IsoDate | None = Field(None, description="Today in the agency's timezone if empty.")


class CreditApplyToIn(StrictSchema):
    invoice_id: RowId | None = Field(
        None,
        description="An open invoice of the client. Left out: the credit note's own invoice, "
        "as far as it still owes, and the settlement becomes `apply`.",
    )
    amount: Amount | None = Field(None, description="Needed with `invoice_id`.")


class CreditRefundIn(StrictSchema):
    amount: Amount = Field(description="At most the credit left and what the invoice received.")
    reason: Annotated[str, Text(2000, required=True, multiline=True)]


class CreditNoteParams(PageParams):
    q: SearchText = Field(
        "",
        description="The start of the credit note or invoice number, or part of the client name.",
    )
    status: CreditNoteStatus | None = None
    client_id: RowId | None = None
    deal_id: RowId | None = None
