"""The pages every document kind has: list, create (blank or from a deal), the document, its
PDF, lines, details, delete, send and revoking its client links. Each takes the kind, whose
declaration in `billing.kinds` says what differs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst

from clientledger.billing import selectors
from clientledger.billing.documents.build import document_pdf, pdf_filename
from clientledger.billing.forms import DocumentCreateForm, DocumentDetailsForm, SendForm
from clientledger.billing.models import BillingDocument
from clientledger.billing.services import drafts, portal_links
from clientledger.billing.views.common import (
    document_or_404,
    flash_error,
    posted,
    refused_unless,
    refused_unless_draft,
    to_detail,
)
from clientledger.billing.views.extensions import detail_extra_context, list_extra_context
from clientledger.core.forms import save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.permissions import AgencyRequest
from clientledger.core.views import pdf_download
from clientledger.crm.client_picker import picker_search
from clientledger.crm.selectors import deal_get
from clientledger.lines.data import LinesInvalid
from clientledger.lines.editor import LinesEditor
from clientledger.lines.selectors import line_catalog

if TYPE_CHECKING:
    from clientledger.billing.kinds import DocumentKind


def document_list(request: AgencyRequest, kind: DocumentKind[Any]) -> HttpResponse:
    form = kind.filter_form(request.GET)
    filters = form.filters()
    listing = selectors.document_list_page(
        agency=request.agency,
        rows=kind.rows(agency=request.agency, filters=filters),
        filters=filters,
        client_search=picker_search(request.GET, "client"),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    context: dict[str, Any] = {
        "kind": kind,
        "listing": listing,
        "page": listing.page,
        "filters": filters,
        "client_search": picker_search(request.GET, "client"),
        "form": form,
        "statuses": form.statuses,
        **list_extra_context(kind.name, request.agency, listing.page.items),
    }
    return render(request, f"billing/{kind.name}_list.html", context)


def document_create(request: AgencyRequest, kind: DocumentKind[Any]) -> HttpResponse:
    form = DocumentCreateForm(
        posted(request), agency=request.agency, initial={"client": request.GET.get("client")}
    )
    document = save_valid_form(
        form,
        lambda data: drafts.document_create(
            kind.model, agency=request.agency, actor=request.user, **data
        ),
    )
    if document is not None:
        messages.success(request, f"Draft {kind.name} created. Add its lines below.")
        return redirect(kind.url("lines", document.pk))
    return render(request, "billing/document_create.html", {"form": form, "kind": kind.name})


def document_create_from_deal(
    request: AgencyRequest, kind: DocumentKind[Any], deal_pk: int
) -> HttpResponse:
    deal = object_or_404(deal_get, agency=request.agency, pk=deal_pk)
    try:
        document = drafts.document_create_from_deal(kind.model, deal=deal, actor=request.user)
    except ValidationError as error:
        flash_error(request, error)
        return redirect("crm:deal_detail", pk=deal.pk)
    if not document.lines.exists():
        messages.success(request, f"Draft {kind.name} created for “{deal.title}”. Add its lines.")
        return redirect(kind.url("lines", document.pk))
    messages.success(
        request, f"Draft {kind.name} created from “{deal.title}” with the deal's lines."
    )
    return to_detail(kind, document)


def document_detail(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    overview = object_or_404(kind.overview, agency=request.agency, pk=pk)
    context: dict[str, Any] = {
        "kind": kind,
        "overview": overview,
        "document": overview.document,
        **detail_extra_context(kind.name, overview.document),
    }
    return render(request, f"billing/{kind.name}_detail.html", context)


def document_pdf_download(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    """The document as issued (a draft: its preview)."""
    document = document_or_404(request, kind, pk)
    return pdf_download(document_pdf(document), pdf_filename(document))


# --- drafts ------------------------------------------------------------------------------


def _editor(request: AgencyRequest, kind: DocumentKind[Any], document: Any) -> LinesEditor:
    lines = list(document.lines.all())
    catalog = line_catalog(agency=request.agency, lines=lines)
    if request.method == "POST":
        return LinesEditor(
            catalog=catalog, currency=document.currency, holder=kind.holder, data=request.POST
        )
    return LinesEditor(catalog=catalog, currency=document.currency, holder=kind.holder, lines=lines)


def _editor_context(
    kind: DocumentKind[Any], document: BillingDocument, editor: LinesEditor
) -> dict[str, Any]:
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


def document_lines(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    document = document_or_404(request, kind, pk)
    refused = refused_unless_draft(request, kind, document)
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
            flash_error(request, error)
            return to_detail(kind, document)
        else:
            messages.success(request, f"Lines of {document} saved.")
            return to_detail(kind, document)
    return render(request, "billing/document_lines.html", _editor_context(kind, document, editor))


def document_lines_totals(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    """The editor's live totals (HTMX): the posted rows priced by the server's money engine."""
    document = document_or_404(request, kind, pk)
    context = _editor_context(kind, document, _editor(request, kind, document))
    return render(request, "lines/_lines_editor.html#totals", {**context, "live": True})


def document_edit(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    document = document_or_404(request, kind, pk)
    refused = refused_unless_draft(request, kind, document)
    if refused is not None:
        return refused
    editable = drafts.editable_fields(document)
    initial = {name: getattr(document, name) for name in editable - {"deal"}}
    form = DocumentDetailsForm(
        posted(request),
        client=document.client,
        has_validity="valid_until" in editable,
        initial={**initial, "deal": document.deal_id},
    )
    saved = save_valid_form(
        form,
        lambda data: drafts.document_update(document=document, actor=request.user, **data),
    )
    if saved is not None:
        messages.success(request, f"Details of {document} saved.")
        return to_detail(kind, document)
    return render(
        request,
        "billing/document_edit.html",
        {"form": form, "document": document, "kind": kind.name},
    )


def document_delete(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    document = document_or_404(request, kind, pk)
    if request.method == "POST":
        try:
            drafts.document_delete(document=document, actor=request.user)
        except ValidationError as error:
            flash_error(request, error)
            return to_detail(kind, document)
        messages.success(request, f"{capfirst(str(document))} deleted.")
        return redirect(kind.url("list"))
    refused = refused_unless_draft(request, kind, document)
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


# --- sending and portal links ------------------------------------------------------------


def document_send(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    document = document_or_404(request, kind, pk)
    sendable = document.status in kind.sendable
    refused = refused_unless(request, kind, document, sendable, " and cannot be sent")
    if refused is not None:
        return refused
    recipients = selectors.document_recipients(client=document.client)
    form = SendForm(posted(request), recipients=recipients)
    sent = save_valid_form(
        form,
        lambda data: kind.send(
            document, actor=request.user, recipients=data["recipients"], message=data["message"]
        ),
    )
    if sent is not None:
        messages.success(request, f"{sent} sent to {', '.join(form.cleaned_data['recipients'])}.")
        return to_detail(kind, document)
    return render(
        request,
        "billing/document_send.html",
        {"form": form, "document": document, "kind": kind.name, "recipients": recipients},
    )


def document_links_revoke(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    document = document_or_404(request, kind, pk)
    revoked = portal_links.portal_link_revoke(document=document, actor=request.user)
    if revoked:
        messages.success(
            request,
            f"{revoked} client link{'' if revoked == 1 else 's'} revoked: they now show "
            "“not found”. Send the document again to give the client a new link.",
        )
    else:
        messages.info(request, f"This {kind.name} has no active client links.")
    return to_detail(kind, document)
