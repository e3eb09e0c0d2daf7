"""Estimates and invoices: drafts are edited freely; sent estimates and issued invoices are
frozen, and the API answers 409 to any change the document's state refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import agency_client, agency_deal, require
from clientledger.api.inputs import (
    Email,
    IsoDate,
    LongText,
    RowId,
    SearchText,
    StrictSchema,
    Text,
    partial_update,
)
from clientledger.api.lines import MAX_LINES, LineIn, LinesIn, api_line_errors, lines_data
from clientledger.api.outputs import DecimalStr, discount_str, money_str, responses
from clientledger.api.pagination import Page, PageParams, paginate
from clientledger.api.service_errors import api_field_names, state_conflicts
from clientledger.billing.documents.build import document_pdf, pdf_filename
from clientledger.billing.models import (
    BillingDocument,
    DocumentLine,
    Estimate,
    EstimateStatus,
    Invoice,
    InvoiceStatus,
    PortalLink,
)
from clientledger.billing.portal_tokens import document_portal_url, live_portal_links
from clientledger.billing.selectors import (
    DOCUMENT_ORDERING,
    EstimateFilters,
    InvoiceFilters,
    InvoiceListStatus,
    document_recipients,
    estimate_get,
    estimate_list,
    invoice_get,
    invoice_list,
    suggested_recipients,
)
from clientledger.billing.services.drafts import (
    document_delete,
    document_lines_replace,
    document_update,
    estimate_create,
    estimate_create_from_deal,
    invoice_create,
    invoice_create_from_deal,
)
from clientledger.billing.services.estimates import estimate_convert
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.billing.services.sending import MAX_RECIPIENTS, estimate_send, invoice_send
from clientledger.catalog.models import UnitType
from clientledger.core import clock
from clientledger.core.money import from_minor, plain_decimal
from clientledger.core.permissions import AgencyRequest
from clientledger.crm.models import Deal

D = TypeVar("D", Estimate, Invoice)

estimates_router = Router(tags=["estimates"])
invoices_router = Router(tags=["invoices"])

DOCUMENT_FIELD_NAMES = {"client": "client_id", "deal": "deal_id"}
PORTAL_URL_NOTE = (
    "The client's link to view (and, for estimates, approve) the document: the newest live "
    "link, created when the document is sent. Null until it is sent or when every link was "
    "revoked."
)
PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "The PDF. Drafts are previews; sent and issued documents are "
            "rendered once and always return the same file.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}
CREATE_DESCRIPTION = (
    "Send `client_id` with optional `deal_id`, texts and `lines`, or `from_deal_id` alone: "
    "the deal's client and service lines carry over (its internal notes do not). The result "
    "is a draft."
)


def _with_links_and_lines(documents: QuerySet[D], link: str) -> QuerySet[D]:
    """A list page as the API shows it: each document with its linked one and its lines."""
    live_links = Prefetch(
        "portal_links",
        queryset=live_portal_links(PortalLink.objects.all()),
        to_attr="live_portal_links",
    )
    return documents.select_related(link).prefetch_related("lines", live_links)


# --- input --------------------------------------------------------------------------------


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
    q: SearchText = Field("", description="Estimate number or client name.")
    status: EstimateStatus | None = None
    client_id: RowId | None = None
    deal_id: RowId | None = None


class InvoiceParams(PageParams):
    q: SearchText = Field("", description="Invoice number or client name.")
    status: InvoiceListStatus | None = Field(
        None, description="A status, or `partially_paid`: open with part of the total paid."
    )
    client_id: RowId | None = None
    deal_id: RowId | None = None
    overdue: bool = Field(False, description="Only open invoices past their due date.")
    issued_from: IsoDate | None = None
    issued_to: IsoDate | None = None


# --- output -------------------------------------------------------------------------------


def _money(minor: int, currency: str) -> str:
    return money_str(from_minor(minor, currency), currency)


class ClientRef(Schema):
    id: int
    name: str


class DealRef(Schema):
    id: int
    title: str


class DocumentRef(Schema):
    id: int
    number: str | None = Field(description="Null while the document is a draft.")


class DocumentLineOut(Schema):
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
    def of(cls, line: DocumentLine, currency: str) -> DocumentLineOut:
        return cls(
            id=line.pk,
            position=line.position,
            service_id=line.service_id,
            description=line.description,
            quantity=plain_decimal(line.quantity),
            unit=UnitType(line.unit),
            unit_price=money_str(line.unit_price, currency),
            discount_kind=line.discount_kind,
            discount_value=discount_str(line.discount_kind, line.discount_value, currency),
            tax_rate_ids=[pk for pk in (line.tax_1_id, line.tax_2_id) if pk is not None],
            net=_money(line.net_minor, currency),
            tax=_money(line.tax_minor, currency),
            total=_money(line.total_minor, currency),
        )


class DocumentTaxOut(Schema):
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


class DocumentOut(Schema):
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


def _document_fields(document: Estimate | Invoice, pdf_url: str) -> dict[str, Any]:
    currency = document.currency
    return {
        "id": document.pk,
        "number": document.number or None,
        "currency": currency,
        "client": ClientRef(id=document.client_id, name=document.client.name),
        "deal": DealRef(id=document.deal.pk, title=document.deal.title) if document.deal else None,
        "notes": document.notes,
        "terms": document.terms,
        "lines": [DocumentLineOut.of(line, currency) for line in document.lines.all()],
        "subtotal": _money(document.subtotal_minor, currency),
        "discount_total": _money(document.discount_minor, currency),
        "tax_total": _money(document.tax_total_minor, currency),
        "total": _money(document.total_minor, currency),
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
        pdf_url = reverse("api:estimate_pdf", kwargs={"estimate_id": estimate.pk})
        return cls(
            **_document_fields(estimate, pdf_url),
            status=EstimateStatus(estimate.status),
            # An estimate asks for no payment: nothing is paid and its total is the balance.
            amount_paid=_money(0, estimate.currency),
            balance_due=_money(estimate.total_minor, estimate.currency),
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
        pdf_url = reverse("api:invoice_pdf", kwargs={"invoice_id": invoice.pk})
        currency = invoice.currency
        return cls(
            **_document_fields(invoice, pdf_url),
            status=InvoiceStatus(invoice.status),
            amount_paid=_money(invoice.amount_paid_minor, currency),
            amount_credited=_money(invoice.amount_credited_minor, currency),
            balance_due=_money(invoice.balance_due_minor, currency),
            due_date=invoice.due_date,
            overdue=invoice.is_overdue,  # type: ignore[attr-defined]
            partially_paid=invoice.is_partially_paid,  # type: ignore[attr-defined]
            estimate=_reference(invoice.estimate),
            issued_at=invoice.issued_at,
            voided_at=invoice.voided_at,
            void_reason=invoice.void_reason,
        )


def _estimate_out(agency: Agency, estimate_id: int) -> EstimateOut:
    return EstimateOut.of(estimate_get(agency=agency, pk=estimate_id))


def _invoice_out(agency: Agency, invoice_id: int) -> InvoiceOut:
    return InvoiceOut.of(invoice_get(agency=agency, pk=invoice_id))


# --- shared steps -------------------------------------------------------------------------


@contextmanager
def _service_errors() -> Iterator[None]:
    """Service errors under the API's field names; refused state changes as 409."""
    with api_field_names(DOCUMENT_FIELD_NAMES), api_line_errors(), state_conflicts():
        yield


def _source_deal(agency: Agency, payload: DocumentIn) -> Deal | None:
    """The deal named by `from_deal_id`, which comes alone: the deal gives everything else."""
    data = payload.model_dump(exclude_unset=True)
    from_deal_id = data.pop("from_deal_id", None)
    if from_deal_id is None:
        return None
    if data:
        raise ValidationError(
            {name: "Leave this out when creating from a deal (from_deal_id)." for name in data}
        )
    return agency_deal(agency=agency, pk=from_deal_id, field="from_deal_id")


def _draft_fields(agency: Agency, payload: DocumentIn) -> dict[str, Any]:
    """A new draft's client, deal and lines as rows of the agency (or a 422), and its texts."""
    if payload.client_id is None:
        raise ValidationError({"client_id": "Choose a client, or send from_deal_id."})
    texts = payload.model_dump(
        exclude_unset=True, exclude={"client_id", "deal_id", "from_deal_id", "lines"}
    )
    deal_id = payload.deal_id
    return texts | {
        "client": agency_client(agency=agency, pk=payload.client_id),
        "deal": agency_deal(agency=agency, pk=deal_id) if deal_id is not None else None,
        "lines": lines_data(agency=agency, lines=payload.lines),
    }


def _patch_fields(agency: Agency, payload: DocumentFields) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if "deal_id" in data:
        deal_id = data.pop("deal_id")
        data["deal"] = agency_deal(agency=agency, pk=deal_id) if deal_id is not None else None
    return data


def _recipients(document: Estimate | Invoice, payload: SendIn) -> list[str]:
    """The addresses sent, else those the app suggests: billing contacts and billing email."""
    if payload.recipients is not None:
        return payload.recipients
    client = document.client
    suggested = suggested_recipients(document_recipients(client=client))
    if not suggested:
        raise ValidationError(
            {
                "recipients": f"{client.name} has no billing contact or billing email; name the "
                "recipients."
            }
        )
    return suggested


def _pdf(document: Estimate | Invoice) -> HttpResponse:
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf_filename(document)}"'
    return response


# --- estimates ----------------------------------------------------------------------------


def _estimate(request: AgencyRequest, perm: str, estimate_id: int) -> Estimate:
    return estimate_get(agency=require(request, perm), pk=estimate_id)


@estimates_router.get("", response=responses({200: Page[EstimateOut]}), summary="List estimates")
def list_estimates(request: AgencyRequest, params: Query[EstimateParams]) -> dict[str, Any]:
    agency = require(request, Perm.VIEW)
    filters = EstimateFilters(
        search=params.q,
        status=params.status or "",
        client_id=params.client_id,
        deal_id=params.deal_id,
    )
    return paginate(
        _with_links_and_lines(estimate_list(agency=agency, filters=filters), "invoice"),
        ordering=DOCUMENT_ORDERING,
        params=params,
        render=lambda page: [EstimateOut.of(estimate) for estimate in page],
    )


@estimates_router.post(
    "",
    response=responses({201: EstimateOut}),
    summary="Create an estimate",
    description=CREATE_DESCRIPTION,
)
def create_estimate(request: AgencyRequest, payload: EstimateIn) -> tuple[int, EstimateOut]:
    agency = require(request, Perm.ESTIMATE_EDIT)
    deal = _source_deal(agency, payload)
    with _service_errors():
        if deal is not None:
            estimate = estimate_create_from_deal(deal=deal, actor=request.user)
        else:
            fields = _draft_fields(agency, payload)
            estimate = estimate_create(agency=agency, actor=request.user, **fields)
    return 201, _estimate_out(agency, estimate.pk)


@estimates_router.get(
    "/{estimate_id}", response=responses({200: EstimateOut}), summary="Get an estimate"
)
def get_estimate(request: AgencyRequest, estimate_id: RowId) -> EstimateOut:
    return EstimateOut.of(_estimate(request, Perm.VIEW, estimate_id))


@estimates_router.patch(
    "/{estimate_id}", response=responses({200: EstimateOut}), summary="Update a draft estimate"
)
def update_estimate(
    request: AgencyRequest, estimate_id: RowId, payload: EstimatePatch
) -> EstimateOut:
    estimate = _estimate(request, Perm.ESTIMATE_EDIT, estimate_id)
    data = _patch_fields(estimate.agency, payload)
    with _service_errors():
        document_update(document=estimate, actor=request.user, **data)
    return _estimate_out(estimate.agency, estimate_id)


@estimates_router.delete(
    "/{estimate_id}", response=responses({204: None}), summary="Delete a draft estimate"
)
def delete_estimate(request: AgencyRequest, estimate_id: RowId) -> tuple[int, None]:
    estimate = _estimate(request, Perm.ESTIMATE_EDIT, estimate_id)
    with _service_errors():
        document_delete(document=estimate, actor=request.user)
    return 204, None


@estimates_router.put(
    "/{estimate_id}/lines",
    response=responses({200: EstimateOut}),
    summary="Replace a draft estimate's lines",
    description="All lines are replaced at once: every line is valid, or nothing changes.",
)
def replace_estimate_lines(
    request: AgencyRequest, estimate_id: RowId, payload: LinesIn
) -> EstimateOut:
    estimate = _estimate(request, Perm.ESTIMATE_EDIT, estimate_id)
    lines = lines_data(agency=estimate.agency, lines=payload.lines)
    with _service_errors():
        document_lines_replace(document=estimate, actor=request.user, lines=lines)
    return _estimate_out(estimate.agency, estimate_id)


@estimates_router.post(
    "/{estimate_id}/send",
    response=responses({200: EstimateOut}),
    summary="Send an estimate",
    description=(
        "Emails the estimate (PDF attached) with a new portal link. The first send gives it "
        "its number and freezes it; later sends are reminders."
    ),
)
def send_estimate(request: AgencyRequest, estimate_id: RowId, payload: SendIn) -> EstimateOut:
    estimate = _estimate(request, Perm.ESTIMATE_EDIT, estimate_id)
    with _service_errors():
        estimate_send(
            estimate=estimate,
            actor=request.user,
            recipients=_recipients(estimate, payload),
            message=payload.message,
        )
    return _estimate_out(estimate.agency, estimate_id)


@estimates_router.post(
    "/{estimate_id}/convert",
    response=responses({201: InvoiceOut}),
    summary="Convert an approved estimate into an invoice",
    description="Answers the new draft invoice. An estimate is converted once.",
)
def convert_estimate(request: AgencyRequest, estimate_id: RowId) -> tuple[int, InvoiceOut]:
    estimate = _estimate(request, Perm.ESTIMATE_EDIT, estimate_id)
    with _service_errors():
        invoice = estimate_convert(estimate=estimate, actor=request.user)
    return 201, _invoice_out(estimate.agency, invoice.pk)


@estimates_router.get(
    "/{estimate_id}/pdf",
    response=responses({200: None}),
    summary="Download an estimate as PDF",
    url_name="estimate_pdf",
    openapi_extra=PDF_RESPONSE,
)
def estimate_pdf(request: AgencyRequest, estimate_id: RowId) -> HttpResponse:
    return _pdf(_estimate(request, Perm.VIEW, estimate_id))


# --- invoices -----------------------------------------------------------------------------


def _invoice(request: AgencyRequest, perm: str, invoice_id: int) -> Invoice:
    return invoice_get(agency=require(request, perm), pk=invoice_id)


@invoices_router.get("", response=responses({200: Page[InvoiceOut]}), summary="List invoices")
def list_invoices(request: AgencyRequest, params: Query[InvoiceParams]) -> dict[str, Any]:
    agency = require(request, Perm.VIEW)
    if params.issued_from and params.issued_to and params.issued_to < params.issued_from:
        raise ValidationError({"issued_to": "Choose a date on or after issued_from."})
    filters = InvoiceFilters(
        search=params.q,
        status=params.status or "",
        client_id=params.client_id,
        deal_id=params.deal_id,
        overdue=params.overdue,
        issued_from=params.issued_from,
        issued_to=params.issued_to,
    )
    rows = invoice_list(agency=agency, filters=filters, today=clock.agency_today(agency))
    return paginate(
        _with_links_and_lines(rows, "estimate"),
        ordering=DOCUMENT_ORDERING,
        params=params,
        render=lambda page: [InvoiceOut.of(invoice) for invoice in page],
    )


@invoices_router.post(
    "",
    response=responses({201: InvoiceOut}),
    summary="Create an invoice",
    description=CREATE_DESCRIPTION,
)
def create_invoice(request: AgencyRequest, payload: InvoiceIn) -> tuple[int, InvoiceOut]:
    agency = require(request, Perm.INVOICE_EDIT)
    deal = _source_deal(agency, payload)
    with _service_errors():
        if deal is not None:
            invoice = invoice_create_from_deal(deal=deal, actor=request.user)
        else:
            fields = _draft_fields(agency, payload)
            invoice = invoice_create(agency=agency, actor=request.user, **fields)
    return 201, _invoice_out(agency, invoice.pk)


@invoices_router.get(
    "/{invoice_id}", response=responses({200: InvoiceOut}), summary="Get an invoice"
)
def get_invoice(request: AgencyRequest, invoice_id: RowId) -> InvoiceOut:
    invoice = _invoice(request, Perm.VIEW, invoice_id)
    return InvoiceOut.of(invoice)


@invoices_router.patch(
    "/{invoice_id}", response=responses({200: InvoiceOut}), summary="Update a draft invoice"
)
def update_invoice(request: AgencyRequest, invoice_id: RowId, payload: InvoicePatch) -> InvoiceOut:
    invoice = _invoice(request, Perm.INVOICE_EDIT, invoice_id)
    data = _patch_fields(invoice.agency, payload)
    with _service_errors():
        document_update(document=invoice, actor=request.user, **data)
    return _invoice_out(invoice.agency, invoice_id)


@invoices_router.delete(
    "/{invoice_id}", response=responses({204: None}), summary="Delete a draft invoice"
)
def delete_invoice(request: AgencyRequest, invoice_id: RowId) -> tuple[int, None]:
    invoice = _invoice(request, Perm.INVOICE_EDIT, invoice_id)
    with _service_errors():
        document_delete(document=invoice, actor=request.user)
    return 204, None


@invoices_router.put(
    "/{invoice_id}/lines",
    response=responses({200: InvoiceOut}),
    summary="Replace a draft invoice's lines",
    description="All lines are replaced at once: every line is valid, or nothing changes.",
)
def replace_invoice_lines(
    request: AgencyRequest, invoice_id: RowId, payload: LinesIn
) -> InvoiceOut:
    invoice = _invoice(request, Perm.INVOICE_EDIT, invoice_id)
    lines = lines_data(agency=invoice.agency, lines=payload.lines)
    with _service_errors():
        document_lines_replace(document=invoice, actor=request.user, lines=lines)
    return _invoice_out(invoice.agency, invoice_id)


@invoices_router.post(
    "/{invoice_id}/issue",
    response=responses({200: InvoiceOut}),
    summary="Issue a draft invoice",
    description=(
        "Gives the invoice the next number of the agency's series, sets its dates, freezes "
        "its lines and totals and posts it to the client's balance."
    ),
)
def issue_invoice(request: AgencyRequest, invoice_id: RowId, payload: IssueIn) -> InvoiceOut:
    invoice = _invoice(request, Perm.INVOICE_EDIT, invoice_id)
    with _service_errors():
        invoice_issue(
            invoice=invoice,
            actor=request.user,
            issue_date=payload.issue_date,
            due_date=payload.due_date,
        )
    return _invoice_out(invoice.agency, invoice_id)


@invoices_router.post(
    "/{invoice_id}/send",
    response=responses({200: InvoiceOut}),
    summary="Send an issued invoice",
    description="Emails the invoice (PDF attached) with a new portal link; send again to remind.",
)
def send_invoice(request: AgencyRequest, invoice_id: RowId, payload: SendIn) -> InvoiceOut:
    invoice = _invoice(request, Perm.INVOICE_EDIT, invoice_id)
    with _service_errors():
        invoice_send(
            invoice=invoice,
            actor=request.user,
            recipients=_recipients(invoice, payload),
            message=payload.message,
        )
    return _invoice_out(invoice.agency, invoice_id)


@invoices_router.post(
    "/{invoice_id}/void",
    response=responses({200: InvoiceOut}),
    summary="Void an issued invoice",
    description="Only an open invoice with nothing paid or credited; its portal links die.",
)
def void_invoice(request: AgencyRequest, invoice_id: RowId, payload: VoidIn) -> InvoiceOut:
    invoice = _invoice(request, Perm.INVOICE_EDIT, invoice_id)
    with _service_errors():
        invoice_void(invoice=invoice, actor=request.user, reason=payload.reason)
    return _invoice_out(invoice.agency, invoice_id)


@invoices_router.get(
    "/{invoice_id}/pdf",
    response=responses({200: None}),
    summary="Download an invoice as PDF",
    url_name="invoice_pdf",
    openapi_extra=PDF_RESPONSE,
)
def invoice_pdf(request: AgencyRequest, invoice_id: RowId) -> HttpResponse:
    return _pdf(_invoice(request, Perm.VIEW, invoice_id))
