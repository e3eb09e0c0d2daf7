"""The API side of each document kind: billing's declaration (`billing.kinds`) plus the
kind's router, its typed schemas and how its list parameters become filters. The shared
endpoints (`routes.py`) are generated from these, each kind's own in `estimates.py`,
`invoices.py` and `credit_notes.py`; the OpenAPI schema stays typed per kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from ninja import Router

from clientledger.api.documents.inputs import (
    CreditNoteIn,
    CreditNoteParams,
    CreditNotePatch,
    DocumentFields,
    DocumentIn,
    EstimateIn,
    EstimateParams,
    EstimatePatch,
    InvoiceIn,
    InvoiceParams,
    InvoicePatch,
)
from clientledger.api.documents.outputs import (
    CREDIT_NOTE_COLUMNS,
    ESTIMATE_COLUMNS,
    INVOICE_COLUMNS,
    CreditNoteOut,
    DocumentOut,
    DocumentRow,
    EstimateOut,
    InvoiceOut,
    LineRow,
)
from clientledger.api.inputs import StrictSchema
from clientledger.api.pagination import PageParams
from clientledger.billing.kinds import CREDIT_NOTE, ESTIMATE, INVOICE, DocumentKind
from clientledger.billing.models import CreditNote, Estimate, Invoice
from clientledger.billing.selectors import DocumentFilters, InvoiceFilters

D = TypeVar("D", Estimate, Invoice, CreditNote)


@dataclass(frozen=True)
class ApiDocumentKind(Generic[D]):
    kind: DocumentKind[D]
    router: Router
    out: type[DocumentOut]
    columns: tuple[str, ...]  # what `render` reads of each row of the kind's list query
    render: Callable[[DocumentRow, list[LineRow]], DocumentOut]  # `out` of a row and its lines
    create_in: type[DocumentIn] | type[CreditNoteIn]
    patch_in: type[DocumentFields] | type[StrictSchema]
    params: type[PageParams]
    filters: Callable[[Any], DocumentFilters]  # the list's parameters as the kind's filters
    unfiltered: DocumentFilters  # the kind's filters that filter nothing
    send_summary: str
    send_description: str
    # Shared endpoints (their views' names) the kind replaces with its own: a credit note is
    # created from an invoice and its lines name the invoice's.
    own_endpoints: frozenset[str] = frozenset()

    @property
    def id_name(self) -> str:
        """The path parameter naming one document: `estimate_id`."""
        return f"{self.kind.name}_id"


def _shared_filters(params: EstimateParams | InvoiceParams | CreditNoteParams) -> dict[str, Any]:
    return {
        "search": params.q,
        "status": params.status or "",
        "client_id": params.client_id,
        "deal_id": params.deal_id,
    }


def _estimate_filters(params: EstimateParams) -> DocumentFilters:
    return DocumentFilters(**_shared_filters(params))


def _invoice_filters(params: InvoiceParams) -> InvoiceFilters:
    if params.issued_from and params.issued_to and params.issued_to < params.issued_from:
        raise ValidationError({"issued_to": "Choose a date on or after issued_from."})
    return InvoiceFilters(
        **_shared_filters(params),
        overdue=params.overdue,
        issued_from=params.issued_from,
        issued_to=params.issued_to,
    )


ESTIMATE_API: ApiDocumentKind[Estimate] = ApiDocumentKind(
    kind=ESTIMATE,
    router=Router(tags=["estimates"]),
    out=EstimateOut,
    columns=ESTIMATE_COLUMNS,
    render=EstimateOut.of,
    create_in=EstimateIn,
    patch_in=EstimatePatch,
    params=EstimateParams,
    filters=_estimate_filters,
    unfiltered=DocumentFilters(),
    send_summary="Send an estimate",
    send_description=(
        "Emails the estimate (PDF attached) with a new portal link. The first send gives it "
        "its number and freezes it; later sends are reminders."
    ),
)

INVOICE_API: ApiDocumentKind[Invoice] = ApiDocumentKind(
    kind=INVOICE,
    router=Router(tags=["invoices"]),
    out=InvoiceOut,
    columns=INVOICE_COLUMNS,
    render=InvoiceOut.of,
    create_in=InvoiceIn,
    patch_in=InvoicePatch,
    params=InvoiceParams,
    filters=_invoice_filters,
    unfiltered=InvoiceFilters(),
    send_summary="Send an issued invoice",
    send_description=(
        "Emails the invoice (PDF attached) with a new portal link; send again to remind."
    ),
)


def _credit_note_filters(params: CreditNoteParams) -> DocumentFilters:
    return DocumentFilters(**_shared_filters(params))


CREDIT_NOTE_API: ApiDocumentKind[CreditNote] = ApiDocumentKind(
    kind=CREDIT_NOTE,
    router=Router(tags=["credit notes"]),
    out=CreditNoteOut,
    columns=CREDIT_NOTE_COLUMNS,
    render=CreditNoteOut.of,
    create_in=CreditNoteIn,
    patch_in=CreditNotePatch,
    params=CreditNoteParams,
    filters=_credit_note_filters,
    unfiltered=DocumentFilters(),
    send_summary="Send an issued credit note",
    send_description="Emails the credit note (PDF attached) with a new portal link.",
    own_endpoints=frozenset({"create_document", "replace_lines"}),
)

API_KINDS: tuple[ApiDocumentKind[Any], ...] = (ESTIMATE_API, INVOICE_API, CREDIT_NOTE_API)
