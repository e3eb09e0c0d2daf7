"""The estimate's own endpoint: converting an approved estimate into an invoice."""

from __future__ import annotations

from clientledger.api.documents.kinds import ESTIMATE_API, INVOICE_API
from clientledger.api.documents.outputs import DocumentOut, InvoiceOut
from clientledger.api.documents.routes import document, document_out, operation_id, service_errors
from clientledger.api.inputs import RowId
from clientledger.api.outputs import responses
from clientledger.billing.services.estimates import estimate_convert
from clientledger.core.permissions import AgencyRequest


@ESTIMATE_API.router.post(
    "/{estimate_id}/convert",
    response=responses({201: InvoiceOut}),
    summary="Convert an approved estimate into an invoice",
    description="Answers the new draft invoice. An estimate is converted once.",
    operation_id=operation_id("convert_estimate"),
)
def convert_estimate(request: AgencyRequest, estimate_id: RowId) -> tuple[int, DocumentOut]:
    estimate = document(ESTIMATE_API, request, ESTIMATE_API.kind.edit_perm, estimate_id)
    with service_errors():
        invoice = estimate_convert(estimate=estimate, actor=request.user)
    return 201, document_out(INVOICE_API, estimate.agency, invoice.pk)
