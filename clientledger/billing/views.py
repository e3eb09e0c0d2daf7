"""Staff pages for estimates and invoices: lists, documents, line editing and every state
change. Each view checks its permission, finds the document in the request's agency, calls
one service or selector, and shows a service's ValidationError next to the field it names
(or as a flash message when there is no form), having saved nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientledger.accounts.roles import Perm
from clientledger.billing import selectors
from clientledger.billing.documents.build import document_pdf, pdf_filename
from clientledger.billing.forms import (
    DocumentCreateForm,
    DocumentDetailsForm,
    EstimateFilterForm,
    InvoiceFilterForm,
    IssueForm,
    SendForm,
    VoidForm,
)
from clientledger.billing.models import Estimate, EstimateStatus, Invoice, InvoiceStatus
from clientledger.billing.services import drafts, estimates, invoices, portal_links, sending
from clientledger.core.forms import save_valid_form
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.core.views import pdf_download
from clientledger.crm.models import Deal
from clientledger.lines.data import LinesInvalid
from clientledger.lines.editor import LinesEditor
from clientledger.lines.selectors import line_catalog
from clientledger.payments.documents import invoice_pdf_with_payments
from clientledger.payments.selectors import invoice_payment_state, invoice_payment_states

Document = Estimate | Invoice
D = TypeVar("D", Estimate, Invoice)


@dataclass(frozen=True)
class Kind(Generic[D]):
    """What differs between the estimate pages and the invoice pages."""

    name: str
    holder: str
    statuses: list[tuple[str, str]]
    filter_form: type[EstimateFilterForm] | type[InvoiceFilterForm]
    list_page: Callable[..., selectors.EstimateListPage | selectors.InvoiceListPage]
    get: Callable[..., D]
    overview: Callable[..., selectors.DocumentOverview]
    create: Callable[..., D]
    create_from_deal: Callable[..., D]
    send: Callable[..., D]
    sendable: tuple[str, ...]

    def url(self, view: str, *args: Any) -> str:
        return reverse(f"billing:{self.name}_{view}", args=args)


ESTIMATE: Kind[Estimate] = Kind(
    name="estimate",
    holder="an estimate",
    statuses=EstimateStatus.choices,
    filter_form=EstimateFilterForm,
    list_page=selectors.estimate_list_page,
    get=selectors.estimate_get,
    overview=selectors.estimate_overview,
    create=drafts.estimate_create,
    create_from_deal=drafts.estimate_create_from_deal,
    send=sending.estimate_send,
    sendable=(EstimateStatus.DRAFT, EstimateStatus.SENT),
)
INVOICE: Kind[Invoice] = Kind(
    name="invoice",
    holder="an invoice",
    statuses=selectors.InvoiceListStatus.choices,
    filter_form=InvoiceFilterForm,
    list_page=selectors.invoice_list_page,
    get=selectors.invoice_get,
    overview=selectors.invoice_overview,
    create=drafts.invoice_create,
    create_from_deal=drafts.invoice_create_from_deal,
    send=sending.invoice_send,
    sendable=(InvoiceStatus.OPEN, InvoiceStatus.PAID),
)


def _document(request: AgencyRequest, kind: Kind[D], pk: int) -> D:
    try:
        return kind.get(agency=request.agency, pk=pk)
    except ObjectDoesNotExist:
        raise Http404(f"No such {kind.name}.") from None


def _posted(request: AgencyRequest) -> QueryDict | None:
    """The posted data, even when empty: forms whose fields are all optional (issuing with
    the default dates) must still be bound and submitted."""
    return request.POST if request.method == "POST" else None


def _flash_error(request: AgencyRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _detail(kind: Kind, document: Document) -> HttpResponse:
    return redirect(kind.url("detail", document.pk))


def _not_draft(request: AgencyRequest, kind: Kind, document: Document) -> HttpResponse | None:
    """Sent and issued documents never change: their edit pages send staff back."""
    if document.status == "draft":
        return None
    messages.error(
        request,
        f"This {kind.name} is {document.get_status_display().lower()} and can no "
        "longer be changed.",
    )
    return _detail(kind, document)


# --- lists -------------------------------------------------------------------------------


def _list(request: AgencyRequest, kind: Kind) -> HttpResponse:
    form = kind.filter_form(request.GET)
    filters = form.filters()
    listing = kind.list_page(
        agency=request.agency,
        filters=filters,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    context: dict[str, Any] = {
        "listing": listing,
        "page": listing.page,
        "filters": filters,
        "form": form,
        "statuses": kind.statuses,
    }
    if kind is INVOICE and listing.page.items:
        context["payment_states"] = invoice_payment_states(
            agency=request.agency, invoice_ids=[invoice.pk for invoice in listing.page]
        )
    return render(request, f"billing/{kind.name}_list.html", context)


@require_GET
@require_perm(Perm.VIEW)
def estimate_list(request: AgencyRequest) -> HttpResponse:
    return _list(request, ESTIMATE)


@require_GET
@require_perm(Perm.VIEW)
def invoice_list(request: AgencyRequest) -> HttpResponse:
    return _list(request, INVOICE)


# --- creating ----------------------------------------------------------------------------


def _create(request: AgencyRequest, kind: Kind) -> HttpResponse:
    form = DocumentCreateForm(
        _posted(request), agency=request.agency, initial={"client": request.GET.get("client")}
    )
    document = save_valid_form(
        form, lambda data: kind.create(agency=request.agency, actor=request.user, **data)
    )
    if document is not None:
        messages.success(request, f"Draft {kind.name} created. Add its lines below.")
        return redirect(kind.url("lines", document.pk))
    return render(request, "billing/document_create.html", {"form": form, "kind": kind.name})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_create(request: AgencyRequest) -> HttpResponse:
    return _create(request, ESTIMATE)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_create(request: AgencyRequest) -> HttpResponse:
    return _create(request, INVOICE)


def _create_from_deal(request: AgencyRequest, kind: Kind, deal_pk: int) -> HttpResponse:
    deal: Deal = get_object_or_404(
        Deal.objects.select_related("agency", "client"), agency=request.agency, pk=deal_pk
    )
    try:
        document = kind.create_from_deal(deal=deal, actor=request.user)
    except ValidationError as error:
        _flash_error(request, error)
        return redirect("crm:deal_detail", pk=deal.pk)
    if not document.lines.exists():
        messages.success(request, f"Draft {kind.name} created for “{deal.title}”. Add its lines.")
        return redirect(kind.url("lines", document.pk))
    messages.success(
        request, f"Draft {kind.name} created from “{deal.title}” with the deal's lines."
    )
    return _detail(kind, document)


@require_POST
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_create_from_deal(request: AgencyRequest, deal_pk: int) -> HttpResponse:
    return _create_from_deal(request, ESTIMATE, deal_pk)


@require_POST
@require_perm(Perm.INVOICE_EDIT)
def invoice_create_from_deal(request: AgencyRequest, deal_pk: int) -> HttpResponse:
    return _create_from_deal(request, INVOICE, deal_pk)


# --- one document ------------------------------------------------------------------------


def _detail_page(request: AgencyRequest, kind: Kind, pk: int) -> HttpResponse:
    try:
        overview = kind.overview(agency=request.agency, pk=pk)
    except ObjectDoesNotExist:
        raise Http404(f"No such {kind.name}.") from None
    context: dict[str, Any] = {"overview": overview, "document": overview.document}
    if isinstance(overview.document, Invoice):
        context["payment_state"] = invoice_payment_state(invoice=overview.document)
    return render(request, f"billing/{kind.name}_detail.html", context)


@require_GET
@require_perm(Perm.VIEW)
def estimate_detail(request: AgencyRequest, pk: int) -> HttpResponse:
    return _detail_page(request, ESTIMATE, pk)


@require_GET
@require_perm(Perm.VIEW)
def invoice_detail(request: AgencyRequest, pk: int) -> HttpResponse:
    return _detail_page(request, INVOICE, pk)


def _pdf(request: AgencyRequest, kind: Kind, pk: int) -> HttpResponse:
    """The document as issued (a draft: its preview)."""
    document = _document(request, kind, pk)
    return pdf_download(document_pdf(document), pdf_filename(document))


@require_GET
@require_perm(Perm.VIEW)
def estimate_pdf(request: AgencyRequest, pk: int) -> HttpResponse:
    return _pdf(request, ESTIMATE, pk)


@require_GET
@require_perm(Perm.VIEW)
def invoice_pdf(request: AgencyRequest, pk: int) -> HttpResponse:
    return _pdf(request, INVOICE, pk)


@require_GET
@require_perm(Perm.VIEW)
def invoice_pdf_current(request: AgencyRequest, pk: int) -> HttpResponse:
    """The invoice with its payment state, as the client downloads it from the portal."""
    invoice = _document(request, INVOICE, pk)
    return pdf_download(invoice_pdf_with_payments(invoice), pdf_filename(invoice))


# --- drafts ------------------------------------------------------------------------------


def _editor(request: AgencyRequest, kind: Kind, document: Document) -> LinesEditor:
    lines = list(document.lines.all())
    catalog = line_catalog(agency=request.agency, lines=lines)
    if request.method == "POST":
        return LinesEditor(
            catalog=catalog, currency=document.currency, holder=kind.holder, data=request.POST
        )
    return LinesEditor(catalog=catalog, currency=document.currency, holder=kind.holder, lines=lines)


def _editor_context(kind: Kind, document: Document, editor: LinesEditor) -> dict[str, Any]:
    totals = editor.totals(
        rounding=document.agency.tax_rounding, tax_exempt=document.client.tax_exempt
    )
    return {
        "kind": kind.name,
        "document": document,
        "client": document.client,
        "editor": editor,
        "value": totals.value,
        "amounts": totals.amounts,
        "save_url": kind.url("lines", document.pk),
        "totals_url": kind.url("lines_totals", document.pk),
        "cancel_url": kind.url("detail", document.pk),
    }


def _lines(request: AgencyRequest, kind: Kind, pk: int) -> HttpResponse:
    document = _document(request, kind, pk)
    refused = _not_draft(request, kind, document)
    if refused is not None:
        return refused
    editor = _editor(request, kind, document)
    if request.method == "POST" and editor.is_valid():
        try:
            drafts.document_lines_replace(
                document=document, actor=request.user, lines=editor.lines()
            )
        except LinesInvalid as error:
            editor.add_line_errors(error)
        except ValidationError as error:
            _flash_error(request, error)
            return _detail(kind, document)
        else:
            messages.success(request, f"Lines of {document} saved.")
            return _detail(kind, document)
    return render(request, "billing/document_lines.html", _editor_context(kind, document, editor))


@require_http_methods(["GET", "POST"])
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_lines(request: AgencyRequest, pk: int) -> HttpResponse:
    return _lines(request, ESTIMATE, pk)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_lines(request: AgencyRequest, pk: int) -> HttpResponse:
    return _lines(request, INVOICE, pk)


def _lines_totals(request: AgencyRequest, kind: Kind, pk: int) -> HttpResponse:
    """The editor's live totals (HTMX): the posted rows priced by the server's money engine."""
    document = _document(request, kind, pk)
    context = _editor_context(kind, document, _editor(request, kind, document))
    return render(request, "lines/_lines_editor.html#totals", {**context, "live": True})


@require_POST
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_lines_totals(request: AgencyRequest, pk: int) -> HttpResponse:
    return _lines_totals(request, ESTIMATE, pk)


@require_POST
@require_perm(Perm.INVOICE_EDIT)
def invoice_lines_totals(request: AgencyRequest, pk: int) -> HttpResponse:
    return _lines_totals(request, INVOICE, pk)


def _edit(request: AgencyRequest, kind: Kind, pk: int) -> HttpResponse:
    document = _document(request, kind, pk)
    refused = _not_draft(request, kind, document)
    if refused is not None:
        return refused
    has_validity = isinstance(document, Estimate)
    initial: dict[str, Any] = {
        "deal": document.deal_id,
        "notes": document.notes,
        "terms": document.terms,
    }
    if isinstance(document, Estimate):
        initial["valid_until"] = document.valid_until
    form = DocumentDetailsForm(
        _posted(request), client=document.client, has_validity=has_validity, initial=initial
    )
    saved = save_valid_form(
        form,
        lambda data: drafts.document_update(document=document, actor=request.user, **data),
    )
    if saved is not None:
        messages.success(request, f"Details of {document} saved.")
        return _detail(kind, document)
    return render(
        request,
        "billing/document_edit.html",
        {"form": form, "document": document, "kind": kind.name},
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    return _edit(request, ESTIMATE, pk)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    return _edit(request, INVOICE, pk)


def _delete(request: AgencyRequest, kind: Kind, pk: int) -> HttpResponse:
    document = _document(request, kind, pk)
    if request.method == "POST":
        try:
            drafts.document_delete(document=document, actor=request.user)
        except ValidationError as error:
            _flash_error(request, error)
            return _detail(kind, document)
        messages.success(request, f"{capfirst(str(document))} deleted.")
        return redirect(kind.url("list"))
    refused = _not_draft(request, kind, document)
    if refused is not None:
        return refused
    return render(
        request,
        "crm/confirm_delete.html",
        {
            "kind": kind.name,
            "object": document,
            "cancel_url": kind.url("detail", document.pk),
            "consequence": "Only drafts can be deleted; its lines are deleted with it.",
        },
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_delete(request: AgencyRequest, pk: int) -> HttpResponse:
    return _delete(request, ESTIMATE, pk)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_delete(request: AgencyRequest, pk: int) -> HttpResponse:
    return _delete(request, INVOICE, pk)


# --- sending and portal links ------------------------------------------------------------


def _send(request: AgencyRequest, kind: Kind, pk: int) -> HttpResponse:
    document = _document(request, kind, pk)
    if document.status not in kind.sendable:
        messages.error(
            request,
            f"This {kind.name} is {document.get_status_display().lower()} and cannot be sent.",
        )
        return _detail(kind, document)
    recipients = selectors.document_recipients(client=document.client)
    form = SendForm(_posted(request), recipients=recipients)
    sent = save_valid_form(
        form,
        lambda data: kind.send(
            **{kind.name: document},
            actor=request.user,
            recipients=data["recipients"],
            message=data["message"],
        ),
    )
    if sent is not None:
        messages.success(request, f"{sent} sent to {', '.join(form.cleaned_data['recipients'])}.")
        return _detail(kind, document)
    return render(
        request,
        "billing/document_send.html",
        {"form": form, "document": document, "kind": kind.name, "recipients": recipients},
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_send(request: AgencyRequest, pk: int) -> HttpResponse:
    return _send(request, ESTIMATE, pk)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_send(request: AgencyRequest, pk: int) -> HttpResponse:
    return _send(request, INVOICE, pk)


def _links_revoke(request: AgencyRequest, kind: Kind, pk: int) -> HttpResponse:
    document = _document(request, kind, pk)
    revoked = portal_links.portal_link_revoke(document=document, actor=request.user)
    if revoked:
        messages.success(
            request,
            f"{revoked} client link{'' if revoked == 1 else 's'} revoked: they now show "
            "“not found”. Send the document again to give the client a new link.",
        )
    else:
        messages.info(request, f"This {kind.name} has no active client links.")
    return _detail(kind, document)


@require_POST
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_links_revoke(request: AgencyRequest, pk: int) -> HttpResponse:
    return _links_revoke(request, ESTIMATE, pk)


@require_POST
@require_perm(Perm.INVOICE_EDIT)
def invoice_links_revoke(request: AgencyRequest, pk: int) -> HttpResponse:
    return _links_revoke(request, INVOICE, pk)


# --- estimate and invoice transitions ----------------------------------------------------


@require_POST
@require_perm(Perm.ESTIMATE_EDIT)
def estimate_convert(request: AgencyRequest, pk: int) -> HttpResponse:
    """One click: an approved estimate becomes a draft invoice, once."""
    estimate = _document(request, ESTIMATE, pk)
    try:
        invoice = estimates.estimate_convert(estimate=estimate, actor=request.user)
    except ValidationError as error:
        existing = selectors.converted_invoice_of(agency=request.agency, estimate=estimate)
        if existing is None:
            _flash_error(request, error)
            return _detail(ESTIMATE, estimate)
        messages.info(request, f"{estimate} was already converted into {existing}.")
        return _detail(INVOICE, existing)
    messages.success(
        request, f"{estimate} converted into a draft invoice. Review it, then issue it."
    )
    return _detail(INVOICE, invoice)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_issue(request: AgencyRequest, pk: int) -> HttpResponse:
    invoice = _document(request, INVOICE, pk)
    refused = _not_draft(request, INVOICE, invoice)
    if refused is not None:
        return refused
    form = IssueForm(_posted(request), terms_days=invoice.client.effective_payment_terms_days)
    issued = save_valid_form(
        form, lambda data: invoices.invoice_issue(invoice=invoice, actor=request.user, **data)
    )
    if issued is not None:
        messages.success(
            request,
            f"Invoice {issued.number} issued on {date_format(issued.issue_date, 'M j, Y')}, due "
            f"{date_format(issued.due_date, 'M j, Y')}. Send it to the client.",
        )
        return _detail(INVOICE, issued)
    return render(request, "billing/invoice_issue.html", {"form": form, "document": invoice})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_void(request: AgencyRequest, pk: int) -> HttpResponse:
    invoice = _document(request, INVOICE, pk)
    if invoice.status != InvoiceStatus.OPEN:
        messages.error(
            request,
            f"This invoice is {invoice.get_status_display().lower()}: only open invoices can "
            "be voided.",
        )
        return _detail(INVOICE, invoice)
    form = VoidForm(_posted(request))
    voided = save_valid_form(
        form, lambda data: invoices.invoice_void(invoice=invoice, actor=request.user, **data)
    )
    if voided is not None:
        messages.success(request, f"Invoice {voided.number} voided.")
        return _detail(INVOICE, voided)
    return render(request, "billing/invoice_void.html", {"form": form, "document": invoice})
