"""The invoice's own endpoints: issuing a draft and voiding an open invoice."""

from __future__ import annotations

from clientledger.api.documents.inputs import IssueIn, VoidIn
from clientledger.api.documents.kinds import INVOICE_API
from clientledger.api.documents.outputs import DocumentOut, InvoiceOut
from clientledger.api.documents.routes import document, document_out, operation_id, service_errors
from clientledger.api.inputs import RowId
from clientledger.api.outputs import responses
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.core.permissions import AgencyRequest

router = INVOICE_API.router


@router.post(
    "/{invoice_id}/issue",
    response=responses({200: InvoiceOut}),
    summary="Issue a draft invoice",
    description=(
        "Gives the invoice the next number of the agency's series, sets its dates, freezes "
        "its lines and totals and posts it to the client's balance."
    ),
    operation_id=operation_id("issue_invoice"),
)
def issue_invoice(request: AgencyRequest, invoice_id: RowId, payload: IssueIn) -> DocumentOut:
    invoice = document(INVOICE_API, request, INVOICE_API.kind.edit_perm, invoice_id)
    with service_errors():
        invoice_issue(
            invoice=invoice,
            actor=request.user,
            issue_date=payload.issue_date,
            due_date=payload.due_date,
        )
    return document_out(INVOICE_API, invoice.agency, invoice_id)


@router.post(
    "/{invoice_id}/void",
    response=responses({200: InvoiceOut}),
    summary="Void an issued invoice",
    description="Only an open invoice with nothing paid or credited; its portal links die.",
    operation_id=operation_id("void_invoice"),
)
def void_invoice(request: AgencyRequest, invoice_id: RowId, payload: VoidIn) -> DocumentOut:
    invoice = document(INVOICE_API, request, INVOICE_API.kind.edit_perm, invoice_id)
    with service_errors():
        invoice_void(invoice=invoice, actor=request.user, reason=payload.reason)
    return document_out(INVOICE_API, invoice.agency, invoice_id)
